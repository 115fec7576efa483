"""Example flows of the HTTP task types, shown in the reference docs and checked by the tests.

The first example of each task type reads its URL from the `api_url` input, so the tests can
run it against a local server instead of the public API it shows.
"""

from __future__ import annotations

from plait_sdk import Example
from plait_sdk.task import example_flow

PRODUCTS_API_INPUT = """\
  - id: api_url
    type: STRING
    defaults: https://dummyjson.com/products
"""

REQUEST = (
    Example(
        "Fetch JSON from an API and use it downstream with jq",
        example_flow(
            "products_summary",
            namespace="dev",
            inputs=PRODUCTS_API_INPUT,
            tasks="""\
  - id: api
    type: plait.http.Request
    uri: "{{ inputs.api_url }}"

  - id: count
    type: plait.core.Return
    format: "{{ outputs.api.body | jq('.products') | first | length }}"

  - id: log
    type: plait.core.Log
    message: "HTTP {{ outputs.api.code }}: {{ outputs.count.value }} products"
""",
        ),
    ),
    Example(
        "POST a JSON payload with a bearer token, accepting an error status",
        example_flow(
            "add_product",
            namespace="dev",
            inputs="""\
  - id: payload
    type: JSON
    defaults: '{"title": "plait Pen"}'
""",
            tasks="""\
  - id: send
    type: plait.http.Request
    uri: https://dummyjson.com/products/add
    method: POST
    contentType: application/json
    body: "{{ inputs.payload }}"
    options:
      allowFailed: true
      auth:
        type: BEARER
        token: "{{ secret('API_TOKEN') }}"

  - id: show
    type: plait.core.Log
    message: "{{ outputs.send.code }} {{ outputs.send.body }}"
""",
        ),
    ),
    Example(
        "Upload a file from internal storage as a multipart form",
        example_flow(
            "upload_report",
            namespace="dev",
            tasks="""\
  - id: fetch
    type: plait.http.Download
    uri: https://dummyjson.com/products

  - id: upload
    type: plait.http.Request
    uri: https://upload.example.com/reports
    method: POST
    contentType: multipart/form-data
    formData:
      title: Daily products
      report: "{{ outputs.fetch.uri }}"
""",
        ),
    ),
)

DOWNLOAD = (
    Example(
        "Download a file and use it in the next task",
        example_flow(
            "download_products",
            namespace="dev",
            inputs=PRODUCTS_API_INPUT,
            tasks="""\
  - id: download
    type: plait.http.Download
    uri: "{{ inputs.api_url }}"
    saveAs: products.json

  - id: log
    type: plait.core.Log
    message: "{{ outputs.download.length }} bytes stored at {{ outputs.download.uri }}"
""",
        ),
    ),
    Example(
        "Download a CSV file behind basic authentication",
        example_flow(
            "download_orders",
            namespace="dev",
            tasks="""\
  - id: extract
    type: plait.http.Download
    uri: https://huggingface.co/datasets/kestra/datasets/raw/main/csv/orders.csv
    options:
      timeout:
        connectTimeout: PT30S
        readIdleTimeout: PT2M
      auth:
        type: BASIC
        username: "{{ secret('FILES_USER') }}"
        password: "{{ secret('FILES_PASSWORD') }}"
""",
        ),
    ),
)
