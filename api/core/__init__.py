"""Foundation: settings, the PostgreSQL pool, Redis, embedded servers, migrations, rate
limits, process metrics and errors. Imports nothing else of the project."""
