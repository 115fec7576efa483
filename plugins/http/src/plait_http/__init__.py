"""plait-http: the `plait.http.Request` and `plait.http.Download` task types, on httpx."""
