"""What notifications plugs in at start: the push channel beside email (which registers
itself when notifications.email is imported, by accounts' wiring)."""

from notifications.push.channel import install

install()
