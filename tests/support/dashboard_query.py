"""The explorer's dashboard query, as the soak's readers and the query benchmark send
it: the network now and over 30 days, every Livepeer region and country, and a day of
streams by the hour."""

DASHBOARD = """
query Dashboard($from: DateTime!, $to: DateTime!) {
  network { ...figures }
  month: network(window: LAST_30_DAYS) { ...figures }
  byRegion: regions(level: LIVEPEER_REGION) {
    code name location { latitude longitude } ...figures
  }
  byCountry: regions(level: COUNTRY) { code name ...figures }
  streams: series(metric: STREAMS, from: $from, to: $to, step: 3600) { time value precision }
}
fragment figures on Stats {
  asOf currentStreams avgStreams maxStreams capacity broadcasters pixelsPerSecond
  transcodedMinutes segments precision
  coverage { reportingOrchestrators knownOrchestrators stakeShare }
}
"""
