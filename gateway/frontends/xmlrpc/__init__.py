"""The XML-RPC frontend: ejabberd_xmlrpc's dialect over the command engine.

:class:`XmlRpcResource` is the HTTP resource; the modules below it decode
method calls safely (:mod:`.codec`), read arguments (:mod:`.arguments`),
shape results per API profile (:mod:`.results`) and build faults
(:mod:`.faults`).
"""

from gateway.frontends.xmlrpc.resource import XmlRpcResource

__all__ = ["XmlRpcResource"]
