"""Several processes serving one gateway (``gateway.workers: N``).

With more than one worker, the process ``twistd`` starts becomes a supervisor
(:mod:`gateway.workers.supervisor`): it opens the listening sockets, owns the
component link and the store's outbound queue, and runs N worker processes
(:mod:`gateway.workers.child`) that adopt the sockets and answer requests.
Workers reach the link through :class:`~gateway.workers.proxy.LinkProxy` and
keep process-wide state in step through :mod:`gateway.workers.shared`; both
talk to the supervisor over the AMP commands of :mod:`gateway.workers.channel`.
"""
