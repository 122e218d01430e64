"""The API description of a mod_http_api listener: OpenAPI 3.1 documents and a docs page."""

from gateway.frontends.apidoc.openapi import openapi_document
from gateway.frontends.apidoc.page import docs_page
from gateway.frontends.apidoc.resource import ApiDescriptionResource

__all__ = ["ApiDescriptionResource", "docs_page", "openapi_document"]
