"""The embedded PostgreSQL server tether uses when no `DATABASE_URL` is given
(tether.embedded.server), and hot standbys of it (tether.embedded.hot_standby).

`tether.embedded.start()` starts (or joins) the server and returns its URL;
`tether.embedded.standby()` makes a hot standby of it, an `EmbeddedStandby`.
"""

from tether.embedded.hot_standby import EmbeddedStandby, StandbyError, standby
from tether.embedded.processes import EmbeddedError
from tether.embedded.server import home, scratch_server, start

__all__ = [
    "EmbeddedError",
    "EmbeddedStandby",
    "StandbyError",
    "home",
    "scratch_server",
    "standby",
    "start",
]
