"""The request helpers the dialects' tests share build requests as the router hands them."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.frontends.helpers import make_request
from tests.frontends.rest import helpers as rest_helpers


class RequestHelperTests(SynchronousTestCase):
    """``make_request`` places the mount point, the path below it and the peer."""

    def test_request_helper_splits_mount(self) -> None:
        """make_request puts the mount point in prepath and the rest, %-decoded, in postpath."""
        request = make_request(b"GET", "/v1/api/st%61tus/v2?x=1", mount="/v1/api")
        self.assertEqual(request.prepath, [b"v1", b"api"])
        self.assertEqual(request.postpath, [b"status", b"v2"])
        self.assertEqual(request.uri, b"/v1/api/st%61tus/v2?x=1")

    def test_request_helper(self) -> None:
        """mod_rest's ``make_request`` places the path below ``/rest`` and sets the peer."""
        request = rest_helpers.make_request(b"x", path="/rest/sub", ip="::1")
        self.assertEqual(request.postpath, [b"sub"])
        self.assertEqual(request.getClientAddress().host, "::1")
        self.assertEqual(request.getHeader(b"content-length"), b"1")
