"""What the two web faces (desk and site) share: the NHS.UK design system's Jinja macros and
vendored compiled assets, one base layout, and the security headers every page carries.

No domain logic and nothing that decides who may see what: the services behind the pages do.
"""

from services.common.web.security import SecurityHeaders
from services.common.web.static import NHSUK_VERSION, mount_static
from services.common.web.templating import Pages, translations_var

__all__ = ["NHSUK_VERSION", "Pages", "SecurityHeaders", "mount_static", "translations_var"]
