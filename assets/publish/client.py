"""A thin CKAN API client for the publisher: retries, clear errors, and call counters.

ckanapi does the HTTP and the error mapping; this wrapper adds what publishing needs:

- every request is counted (`api_calls`, and `write_calls` for writes), so a run can prove that
  an unchanged catalog cost reads only;
- transient failures (5xx, timeouts, refused or dropped connections) are retried with
  exponential backoff; a 4xx is never retried, it will not get better;
- a failure names the action, the dataset being written and the API URL, so an interrupted
  publish says what was in flight.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from typing import Any, Callable

import ckanapi
import requests

# Every action the publisher reads with; anything else counts as a write.
READ_ACTIONS = frozenset({"package_search", "package_show", "organization_show", "organization_list",
                          "status_show", "package_list", "resource_show", "resource_view_list",
                          "datastore_search", "datastore_info"})


class PublishError(RuntimeError):
    """A CKAN call failed; the message names the action, the dataset and the API URL."""

    def __init__(self, message: str, *, action: str, target: str, url: str) -> None:
        super().__init__(message)
        self.action = action
        self.target = target
        self.url = url


class CkanUnavailable(PublishError):
    """CKAN did not answer usefully (5xx, timeout, connection error) after every retry."""


class CkanRejected(PublishError):
    """CKAN refused the call (4xx): not retried. `is_conflict`: a 409, CKAN's validation error
    (e.g. the name is already taken). ckanapi's exception is not kept: its text is the server's
    answer, which may echo our request headers (the token)."""

    def __init__(self, message: str, *, action: str, target: str, url: str, is_conflict: bool) -> None:
        super().__init__(message, action=action, target=target, url=url)
        self.is_conflict = is_conflict


class _ServerError(Exception):
    """A 5xx answer (ckanapi folds the status into a generic error; we need it to retry)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")


class _RemoteCKAN(ckanapi.RemoteCKAN):
    """ckanapi's client, raising `_ServerError` on any 5xx so the caller can retry it."""

    def _request_fn(self, url, data, headers, files, requests_kwargs):
        status, body = super()._request_fn(url, data, headers, files, requests_kwargs)
        if status >= 500:
            raise _ServerError(status, body)
        return status, body


_TRANSIENT = (_ServerError, requests.ConnectionError, requests.Timeout)
# Everything else ckanapi raises: CKAN's own 4xx errors, or an answer that is not CKAN's at all.
_REJECTED = (ckanapi.CKANAPIError, ckanapi.ValidationError, ckanapi.NotFound, ckanapi.NotAuthorized,
             ckanapi.SearchQueryError, ckanapi.ServerIncompatibleError)


class CkanClient:
    """Counted, retried CKAN API calls. `on_write(action, target)` runs after each successful write."""

    def __init__(self, url: str, token: str, *, retries: int = 4, backoff: float = 1.0, timeout: float = 60.0,
                 on_write: Callable[[str, str], None] | None = None) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.on_write = on_write
        self.api_calls = 0
        self.write_calls = 0
        self.calls_by_action: Counter[str] = Counter()
        self._token = token
        self._ckan = _RemoteCKAN(self.url, apikey=token, user_agent="zwgk-publisher")

    def _redact(self, text: str) -> str:
        """An error text without the token, whatever the server echoed back (proxies, debug pages)."""
        return text.replace(self._token, "***") if self._token else text

    def read(self, action: str, target: str = "", **params: Any) -> Any:
        if action not in READ_ACTIONS:
            raise ValueError(f"{action} is not a read action")
        return self._call(action, target, params, None)

    def write(self, action: str, target: str, upload: tuple[str, bytes] | None = None, **params: Any) -> Any:
        """A write for dataset `target`; `upload` is (file name, bytes), sent as the resource file."""
        if action in READ_ACTIONS:
            raise ValueError(f"{action} is a read action")
        result = self._call(action, target, params, upload)
        if self.on_write:
            self.on_write(action, target)
        return result

    def close(self) -> None:
        self._ckan.close()

    def _call(self, action: str, target: str, params: dict, upload: tuple[str, bytes] | None) -> Any:
        api_url = f"{self.url}/api/action/{action}"
        attempt = 0
        while True:
            self._count(action)
            # A fresh file object per attempt: a failed attempt may have consumed the last one.
            files = {"upload": (upload[0], io.BytesIO(upload[1]))} if upload else None
            try:
                return self._ckan.call_action(action, params, files=files,
                                              requests_kwargs={"timeout": self.timeout})
            except _TRANSIENT as exc:
                if attempt == self.retries:
                    # `from None`: the cause's text may carry the server's echo of our request headers.
                    raise CkanUnavailable(self._redact(
                        f"{_what(action, target)} failed at {api_url}: CKAN unavailable after "
                        f"{attempt + 1} attempts ({type(exc).__name__}: {exc})"),
                        action=action, target=target, url=api_url) from None
                time.sleep(min(self.backoff * 2 ** attempt, 30.0))
                attempt += 1
            except _REJECTED as exc:
                raise CkanRejected(self._redact(f"{_what(action, target)} rejected by {api_url}: "
                                                f"{type(exc).__name__}: {exc}"),
                                   action=action, target=target, url=api_url,
                                   is_conflict=isinstance(exc, ckanapi.ValidationError)) from None

    def _count(self, action: str) -> None:
        self.api_calls += 1
        self.calls_by_action[action] += 1
        if action not in READ_ACTIONS:
            self.write_calls += 1


def _what(action: str, target: str) -> str:
    return f"{action} for dataset {target!r}" if target else action
