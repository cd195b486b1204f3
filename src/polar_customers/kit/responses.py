"""The response of every JSON operation: a document rendered when the response is sent, in
the response version of its request (kit/versions.py). Handlers hand over what to render
(`Rendered(partial(render.customer, row))`), never a version."""

from collections.abc import Callable

from fastapi.responses import Response
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from polar_customers.kit.versions import ApiVersion, request_version


class Rendered(Response):
    """JSON written by pydantic's serializer: the document a `response_model` gives, without
    FastAPI validating it a second time. A renderer may return the JSON itself, as bytes."""

    media_type = "application/json"

    def __init__(
        self, render: Callable[[ApiVersion], BaseModel | bytes], *, status_code: int = 200
    ) -> None:
        self._render = render
        super().__init__(status_code=status_code)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        document = self._render(request_version(scope))
        if isinstance(document, bytes):  # already JSON (see customers/render.py)
            self.body = document
        else:
            self.body = document.__pydantic_serializer__.to_json(document)
        self.init_headers()
        await super().__call__(scope, receive, send)
