"""plait.http.Request against a real server on 127.0.0.1, run by the real engine."""

from __future__ import annotations

import base64
import json
import socket
from typing import TYPE_CHECKING, Any

import pytest
from plait_sdk.testing import PlaitRunner, TaskRunResult

if TYPE_CHECKING:
    from conftest import LocalServer, RunFailing

REQUEST = "plait.http.Request"


def body_json(result: TaskRunResult) -> Any:
    assert result.state == "SUCCESS", result.error
    return json.loads(result.outputs["body"])


def test_get_json_is_usable_with_jq_downstream(plait_runner: PlaitRunner, products_url: str):
    flow = f"""
id: products
namespace: test.http
tasks:
  - id: api
    type: io.kestra.plugin.fs.http.Request
    uri: {products_url}/products
  - id: count
    type: plait.core.Return
    format: "{{{{ outputs.api.body | jq('.products') | first | length }}}}"
  - id: first_brand
    type: plait.core.Return
    format: "{{{{ outputs.api.body | jq('.products[0].brand') | first }}}}"
"""
    run = plait_runner.run_flow(flow)

    assert run.state == "SUCCESS", run.tasks["api"].error
    api = run.tasks["api"].outputs
    assert api["code"] == 200
    assert api["uri"] == f"{products_url}/products"
    assert api["headers"]["Content-Type"] == ["application/json; charset=utf-8"]
    assert json.loads(api["body"])["total"] == 30
    assert run.tasks["count"].outputs["value"] == "30"
    assert run.tasks["first_brand"].outputs["value"] == "Essence"
    assert any(
        line.level == "INFO" and line.message == f"GET {products_url}/products -> 200 OK"
        for line in run.tasks["api"].logs
    )


def test_post_json_body_and_headers(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(
        REQUEST,
        {
            "uri": f"{server.url}/echo",
            "method": "POST",
            "headers": {"X-Trace": "abc-123", "X-Retry": 2},
            "body": {"title": "plait Pen", "price": 9.5},
        },
    )

    echoed = body_json(result)
    assert echoed["method"] == "POST"
    assert json.loads(echoed["body"]) == {"title": "plait Pen", "price": 9.5}
    assert echoed["headers"]["Content-Type"] == "application/json"
    assert echoed["headers"]["X-Trace"] == "abc-123"
    assert echoed["headers"]["X-Retry"] == "2"
    assert echoed["headers"]["User-Agent"].startswith("plait-http/")


def test_text_body_is_sent_with_its_content_type(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(
        REQUEST,
        {
            "uri": f"{server.url}/echo",
            "method": "PUT",
            "contentType": "text/csv",
            "body": "brand,price\nEssence,9.99\n",
        },
    )

    received = server.state.received[-1]
    assert result.state == "SUCCESS", result.error
    assert received.method == "PUT"
    assert received.headers["Content-Type"] == "text/csv"
    assert received.body == b"brand,price\nEssence,9.99\n"


def test_repeated_response_headers_are_grouped(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(REQUEST, {"uri": f"{server.url}/echo?header=1"})

    assert result.state == "SUCCESS", result.error
    assert result.outputs["headers"]["X-Echo"] == ["first", "second"]


def test_form_data_sends_a_storage_file_as_a_streamed_part(
    plait_runner: PlaitRunner, server: LocalServer
):
    flow = f"""
id: upload
namespace: test.http
tasks:
  - id: fetch
    type: plait.http.Download
    uri: "{server.url}/bytes/300000?name=report.bin"
  - id: upload
    type: plait.http.Request
    uri: "{server.url}/form"
    method: POST
    formData:
      title: Daily report
      count: 3
      report: "{{{{ outputs.fetch.uri }}}}"
      renamed:
        name: inline.csv
        content: "a,b\\n1,2\\n"
"""
    run = plait_runner.run_flow(flow)

    assert run.state == "SUCCESS", run.tasks["upload"].error
    form = json.loads(run.tasks["upload"].outputs["body"])
    assert form["contentType"].startswith("multipart/form-data; boundary=")
    parts = form["parts"]
    assert parts["title"]["text"] == "Daily report"
    assert parts["title"]["filename"] is None
    assert parts["count"]["text"] == "3"
    assert parts["report"]["filename"] == "report.bin"
    assert parts["report"]["size"] == 300000
    assert parts["report"]["sha256"] == server.pattern_sha256(300000)
    assert parts["renamed"]["filename"] == "inline.csv"
    assert parts["renamed"]["contentType"] == "text/csv"
    assert parts["renamed"]["text"] == "a,b\n1,2\n"


def test_form_data_without_files_is_url_encoded(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(
        REQUEST,
        {"uri": f"{server.url}/form", "method": "POST", "formData": {"user": "John Doe", "n": 5}},
    )

    form = body_json(result)
    assert form["contentType"] == "application/x-www-form-urlencoded"
    assert form["parts"] == {"user": "John Doe", "n": "5"}


def test_multipart_content_type_selects_a_multipart_form(
    plait_runner: PlaitRunner, server: LocalServer
):
    result = plait_runner.run_task(
        REQUEST,
        {
            "uri": f"{server.url}/form",
            "method": "POST",
            "contentType": "multipart/form-data",
            "formData": {"user": "John Doe"},
        },
    )

    form = body_json(result)
    assert form["contentType"].startswith("multipart/form-data")
    assert form["parts"]["user"]["text"] == "John Doe"


def test_not_found_fails_with_code_and_body_excerpt(run_failing: RunFailing, products_url: str):
    error = run_failing(REQUEST, {"uri": f"{products_url}/products/999"})

    assert "HTTP 404" in error
    assert "Product with id '999' not found" in error
    assert f"{products_url}/products/999" in error
    assert "allowFailed" in error


def test_allow_failed_keeps_the_error_response(plait_runner: PlaitRunner, products_url: str):
    result = plait_runner.run_task(
        REQUEST, {"uri": f"{products_url}/products/999", "options": {"allowFailed": True}}
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["code"] == 404
    assert json.loads(result.outputs["body"]) == {"message": "Product with id '999' not found"}


@pytest.mark.parametrize(
    ("path", "allowed", "state"),
    [("/status/404", [200, 404], "SUCCESS"), ("/echo?status=201", [200], "FAILED")],
)
def test_allowed_response_codes_are_exactly_the_accepted_ones(
    plait_runner: PlaitRunner, server: LocalServer, path: str, allowed: list[int], state: str
):
    result = plait_runner.run_task(
        REQUEST, {"uri": server.url + path, "options": {"allowedResponseCodes": allowed}}
    )

    assert result.state == state, result.error


def test_declared_body_over_max_content_length_fails_pointing_to_download(
    run_failing: RunFailing, server: LocalServer
):
    error = run_failing(
        REQUEST, {"uri": f"{server.url}/bytes/3000000", "options": {"maxContentLength": 1000000}}
    )

    assert "maxContentLength" in error
    assert "plait.http.Download" in error


def test_streamed_body_stops_being_read_once_over_the_limit(
    run_failing: RunFailing, server: LocalServer
):
    error = run_failing(
        REQUEST, {"uri": f"{server.url}/endless", "options": {"maxContentLength": 1000000}}
    )

    assert "maxContentLength (1000000 bytes" in error
    assert "plait.http.Download" in error
    assert server.state.endless_done.wait(30), "the server kept sending"
    # The client hung up: only what socket buffers absorbed went out past the 1 MB limit.
    assert server.state.endless_sent < server.ENDLESS_CAP // 4


def test_default_max_content_length_is_ten_megabytes(run_failing: RunFailing, server: LocalServer):
    error = run_failing(REQUEST, {"uri": f"{server.url}/bytes/10485761"})

    assert "maxContentLength (10485760 bytes" in error


def test_read_timeout_fails_naming_the_uri_and_the_timeout(
    run_failing: RunFailing, server: LocalServer
):
    error = run_failing(
        REQUEST,
        {"uri": f"{server.url}/slow", "options": {"timeout": {"readIdleTimeout": "PT0.5S"}}},
    )

    assert f"{server.url}/slow" in error
    assert "read timeout (options.timeout.readIdleTimeout = 0.5s)" in error


def test_kestra_older_read_timeout_spelling_is_honoured(
    run_failing: RunFailing, server: LocalServer
):
    error = run_failing(
        REQUEST, {"uri": f"{server.url}/slow", "options": {"readTimeout": "PT0.5S"}}
    )

    assert "read timeout" in error


def test_refused_connection_fails_clearly(run_failing: RunFailing):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    error = run_failing(REQUEST, {"uri": f"{url}/echo"})

    assert f"GET {url}/echo: cannot connect" in error


def test_redirects_are_followed_by_default(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(REQUEST, {"uri": f"{server.url}/redirect"})

    assert body_json(result)["path"] == "/echo?redirected=1"
    assert result.outputs["code"] == 200
    assert result.outputs["uri"] == f"{server.url}/redirect"


def test_redirects_can_be_left_unfollowed(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(
        REQUEST, {"uri": f"{server.url}/redirect", "options": {"followRedirects": False}}
    )

    assert result.state == "SUCCESS", result.error
    assert result.outputs["code"] == 302
    assert result.outputs["headers"]["Location"] == ["/echo?redirected=1"]
    assert [r.path for r in server.state.received] == ["/redirect"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"auth": {"type": "BASIC", "username": "admin", "password": "s3cr:et"}},
            "Basic " + base64.b64encode(b"admin:s3cr:et").decode(),
        ),
        (
            {"basicAuthUser": "admin", "basicAuthPassword": "pw"},
            "Basic " + base64.b64encode(b"admin:pw").decode(),
        ),
        ({"auth": {"type": "BEARER", "token": "tok-42"}}, "Bearer tok-42"),
    ],
    ids=["basic", "basic-kestra-legacy", "bearer"],
)
def test_auth_header_reaches_the_server(
    plait_runner: PlaitRunner, server: LocalServer, options: dict[str, Any], expected: str
):
    result = plait_runner.run_task(REQUEST, {"uri": f"{server.url}/echo", "options": options})

    assert result.state == "SUCCESS", result.error
    assert server.state.received[-1].headers["Authorization"] == expected


def test_binary_body_fails_pointing_to_download(run_failing: RunFailing, server: LocalServer):
    error = run_failing(REQUEST, {"uri": f"{server.url}/bytes/300"})

    assert "not UTF-8 text" in error
    assert "plait.http.Download" in error


def test_empty_body_is_null(plait_runner: PlaitRunner, server: LocalServer):
    result = plait_runner.run_task(REQUEST, {"uri": f"{server.url}/empty"})

    assert result.state == "SUCCESS", result.error
    assert result.outputs["body"] is None
