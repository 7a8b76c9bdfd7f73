"""What accounts plugs into the core: the token lookup behind every request."""

from accounts.authentication import principal_for
from crowd.core.auth import install_authenticator

install_authenticator(principal_for)
