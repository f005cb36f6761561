"""Is there a screen to open the app on? Asked before Qt starts, because Qt's xcb plugin aborts
the whole process (exit 134, "Reinstalling the application may fix this problem") when it cannot
reach an X server. Qt-free: imported by the launcher before any Qt module.

On X11 the check is the one Qt itself makes, ``xcb_connect`` through libxcb (so xauth and remote
displays count alike); without libxcb it falls back to the display's socket. Windows and macOS
always have a screen; a platform chosen with ``QT_QPA_PLATFORM`` (offscreen, vnc...) is the user's.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import socket
import sys
from collections.abc import Mapping

HEADLESS_HINT = (
    "Without a screen, use the subcommands "
    "(twintrain check, train, export FILE; see twintrain --help), "
    "or set QT_QPA_PLATFORM=offscreen to run the app with no window."
)
_SCREENLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the desktop app cannot open a window here, or None when it can."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if platform in _SCREENLESS_PLATFORMS:
        return None
    wayland = env.get("WAYLAND_DISPLAY")
    if platform.startswith("wayland") or (not platform and wayland and not env.get("DISPLAY")):
        return _wayland_problem(env, wayland)
    display = env.get("DISPLAY")
    if not display:
        return "no display available (DISPLAY is not set)"
    if not _x11_reachable(display):
        return f"no display available (cannot connect to the X server at DISPLAY={display})"
    return None


def _wayland_problem(env, wayland: str | None) -> str | None:
    if not wayland:
        return "no display available (WAYLAND_DISPLAY is not set)"
    path = (
        wayland if os.path.isabs(wayland) else os.path.join(env.get("XDG_RUNTIME_DIR", ""), wayland)
    )
    return None if os.path.exists(path) else f"no display available (no Wayland socket at {path})"


def _x11_reachable(display: str) -> bool:
    name = ctypes.util.find_library("xcb")
    if name:
        try:
            xcb = ctypes.CDLL(name)
            xcb.xcb_connect.restype = ctypes.c_void_p
            xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
            xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
            xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
            conn = xcb.xcb_connect(display.encode(), None)
            try:
                return xcb.xcb_connection_has_error(conn) == 0
            finally:
                xcb.xcb_disconnect(conn)
        except (OSError, AttributeError):
            pass
    return _x11_socket_reachable(display)


def _x11_socket_reachable(display: str) -> bool:
    m = re.fullmatch(r"(?P<host>[^:]*):(?P<num>\d+)(\.\d+)?", display)
    if not m:
        return False
    host, num = m["host"], int(m["num"])
    if host in ("", "unix"):
        return os.path.exists(f"/tmp/.X11-unix/X{num}")
    try:
        with socket.create_connection((host, 6000 + num), timeout=2):
            return True
    except OSError:
        return False
