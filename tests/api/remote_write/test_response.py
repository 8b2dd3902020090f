from api.remote_write import written_headers


def test_written_headers_report_every_count() -> None:
    assert written_headers(1999, 0, 3) == {
        "X-Prometheus-Remote-Write-Samples-Written": "1999",
        "X-Prometheus-Remote-Write-Histograms-Written": "0",
        "X-Prometheus-Remote-Write-Exemplars-Written": "3",
    }
    assert written_headers(5)["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
