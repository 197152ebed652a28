"""Links to stored media over HTTP for what the Dagster UI shows (a take's video, proxy,
storyboard, segments): signed `/media/...` URLs on the review server (TRULIENCE_PUBLIC_URL,
`make review`), never a file:// path an operator's browser cannot open."""

from dagster import ConfigurableResource

from resources.environment import resolved
from trulience.auth.media_links import media_path
from trulience.config import Settings

# A materialisation's links outlive the run: an operator looks at a run within a month;
# an older link answers "the link has expired" (materialise again for fresh ones).
LINK_TTL_S = 30 * 24 * 3600


class MediaResource(ConfigurableResource):
    """`base_url` serves the media route; links are signed with the studio's secret
    (TRULIENCE_SECRET, else the one kept under `home`), as the apps' own links are."""

    base_url: str
    home: str
    secret: str | None = None
    ttl_s: int = LINK_TTL_S

    def link(self, key: str) -> str:
        """An http(s) URL serving stored object `key` for `ttl_s` seconds."""
        env = {"TRULIENCE_HOME": self.home}
        secret = resolved(self.secret)
        if secret:
            env["TRULIENCE_SECRET"] = secret
        key_bytes = Settings.from_env(env).signing_secret()
        return self.base_url.rstrip("/") + media_path(key, ttl_s=self.ttl_s, secret=key_bytes)
