"""The lockdown rules a kiosk terminal must meet, each a check over a root tree."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.system.config_files import (
    Root,
    Settings,
    enabled_in,
    find_unit,
    is_masked,
    manager_settings,
    modprobe_lines,
    sysctl_value,
    timespan_s,
    unit_settings,
)

KIOSK_UNITS = ("kiosk.service", "kiosk-cage.service")
ALLOWED_DEVICES = frozenset(
    {"char-drm", "char-video4linux", "char-alsa", "char-input", "/dev/tty1", "char-rtc"}
)
WATCHDOG_MAX_S = 60.0
HARDWARE_WATCHDOG_MAX_S = 15.0
DISPLAY_MANAGERS = (
    "gdm.service", "gdm3.service", "lightdm.service", "sddm.service", "lxdm.service",
    "xdm.service", "nodm.service", "slim.service", "greetd.service", "weston.service",
)  # fmt: skip
USB_STORAGE_MODULES = ("usb_storage", "uas")
FALSE_COMMANDS = frozenset({"/bin/false", "/usr/bin/false", "/bin/true", "/usr/bin/true"})


@dataclass(frozen=True)
class Finding:
    id: str
    rule: str
    ok: bool
    detail: str
    fix: str


@dataclass(frozen=True)
class Rule:
    id: str
    rule: str
    fix: str
    check: Callable[[Root], tuple[bool, str]]

    def run(self, root: Root) -> Finding:
        ok, detail = self.check(root)
        return Finding(self.id, self.rule, ok, detail, self.fix)


def active_kiosk_unit(root: Root) -> str:
    """The enabled kiosk unit, or kiosk.service when none is."""
    for unit in KIOSK_UNITS:
        if enabled_in(root, unit):
            return unit
    return KIOSK_UNITS[0]


def _kiosk_settings(root: Root) -> tuple[str, Settings | None]:
    unit = active_kiosk_unit(root)
    return unit, unit_settings(root, unit)


def check_kiosk_installed(root: Root) -> tuple[bool, str]:
    enabled = {u: enabled_in(root, u) for u in KIOSK_UNITS if find_unit(root, u)}
    if not enabled:
        return False, "no kiosk.service unit file found"
    on = [u for u, targets in enabled.items() if targets]
    if not on:
        return False, f"{', '.join(enabled)} installed but not enabled"
    if len(on) > 1:
        return False, f"both {' and '.join(on)} are enabled; they fight over tty1"
    if is_masked(root, on[0]):
        return False, f"{on[0]} is masked"
    return True, f"{on[0]} enabled in {', '.join(enabled[on[0]])}"


def _hardening_gaps(unit: str, s: Settings) -> list[str]:
    gaps: list[str] = []
    svc = "Service"
    user = s.last(svc, "User")
    if not user or user in ("root", "0"):
        gaps.append(f"User= is {user or 'unset'} (expected an unprivileged user)")
    for key in (
        "NoNewPrivileges", "PrivateTmp", "ProtectKernelTunables", "ProtectKernelModules",
        "ProtectKernelLogs", "ProtectControlGroups", "RestrictNamespaces", "RestrictSUIDSGID",
        "LockPersonality", "ProtectHome",
    ):  # fmt: skip
        if not s.is_true(svc, key):
            gaps.append(f"{key}= is {s.last(svc, key) or 'unset'} (expected yes)")
    expected_exact = {
        "ProtectSystem": "strict",
        "DevicePolicy": "closed",
        "SystemCallArchitectures": "native",
        "UMask": "0077",
        "TTYPath": "/dev/tty1",
    }
    for key, want in expected_exact.items():
        if s.last(svc, key) != want:
            gaps.append(f"{key}= is {s.last(svc, key) or 'unset'} (expected {want})")
    caps = s.last(svc, "CapabilityBoundingSet")
    if caps is None or s.items(svc, "CapabilityBoundingSet"):
        gaps.append("CapabilityBoundingSet= keeps capabilities (expected it empty)")
    for key in ("SystemCallFilter", "RuntimeDirectory", "PAMName"):
        if not s.items(svc, key):
            gaps.append(f"{key}= is unset")
    for key in ("StateDirectory", "CacheDirectory", "LogsDirectory", "ReadWritePaths"):
        if s.items(svc, key):
            gaps.append(f"{key}= makes disk writable during sessions")
    wrong = [d for d in s.lines(svc, "DeviceAllow") if d.split()[0] not in ALLOWED_DEVICES]
    if wrong:
        gaps.append(f"DeviceAllow= opens {', '.join(wrong)}")
    if "getty@tty1.service" not in s.items("Unit", "Conflicts"):
        gaps.append("Conflicts= lacks getty@tty1.service")
    return gaps


def check_kiosk_hardened(root: Root) -> tuple[bool, str]:
    unit, s = _kiosk_settings(root)
    if s is None:
        return False, f"{unit} not found"
    gaps = _hardening_gaps(unit, s)
    return (not gaps), ("; ".join(gaps) if gaps else f"{unit} carries every required directive")


def check_kiosk_watchdog(root: Root) -> tuple[bool, str]:
    unit, s = _kiosk_settings(root)
    if s is None:
        return False, f"{unit} not found"
    gaps = []
    if s.last("Service", "Type") != "notify":
        gaps.append(f"Type= is {s.last('Service', 'Type') or 'unset'} (expected notify)")
    span = timespan_s(s.last("Service", "WatchdogSec"))
    if span is None or not 0 < span <= WATCHDOG_MAX_S:
        gaps.append(
            f"WatchdogSec= is {s.last('Service', 'WatchdogSec') or 'unset'} "
            f"(expected 1..{WATCHDOG_MAX_S:.0f} s)"
        )
    if s.last("Service", "NotifyAccess") not in ("main", "exec", "all"):
        gaps.append("NotifyAccess= is unset (expected main)")
    if s.last("Service", "Restart") != "always":
        gaps.append(f"Restart= is {s.last('Service', 'Restart') or 'unset'} (expected always)")
    return (not gaps), ("; ".join(gaps) if gaps else f"{unit}: notify, watchdog, restart")


def check_out_of_order(root: Root) -> tuple[bool, str]:
    unit, s = _kiosk_settings(root)
    if s is None:
        return False, f"{unit} not found"
    targets = s.items("Unit", "OnFailure")
    if not targets:
        return False, f"{unit} has no OnFailure= screen"
    missing = [t for t in targets if find_unit(root, t) is None]
    if missing:
        return False, f"OnFailure= names {', '.join(missing)}, which is not installed"
    if not s.items("Unit", "StartLimitBurst"):
        return False, "StartLimitBurst= unset, so the restart loop never gives up"
    return True, f"after repeated failures {unit} starts {', '.join(targets)}"


def check_logind_vts(root: Root) -> tuple[bool, str]:
    s = manager_settings(root, "logind")
    got = {k: s.last("Login", k) for k in ("NAutoVTs", "ReserveVT")}
    bad = [f"{k}={v if v is not None else 'unset (6)'}" for k, v in got.items() if v != "0"]
    return (not bad), ("expected 0, found " + ", ".join(bad) if bad else "NAutoVTs=0 ReserveVT=0")


def check_logind_keys(root: Root) -> tuple[bool, str]:
    s = manager_settings(root, "logind")
    keys = ("HandlePowerKey", "HandleSuspendKey", "HandleRebootKey", "HandleLidSwitch")
    bad = [f"{k}={s.last('Login', k) or 'unset'}" for k in keys if s.last("Login", k) != "ignore"]
    return (not bad), ("expected ignore, found " + ", ".join(bad) if bad else "keys ignored")


def check_ctrl_alt_del(root: Root) -> tuple[bool, str]:
    gaps = []
    if not is_masked(root, "ctrl-alt-del.target"):
        gaps.append("ctrl-alt-del.target is not masked")
    burst = manager_settings(root, "system").last("Manager", "CtrlAltDelBurstAction")
    if burst != "none":
        gaps.append(f"CtrlAltDelBurstAction={burst or 'unset (reboot-force)'}")
    return (not gaps), ("; ".join(gaps) if gaps else "masked, burst action none")


def check_sysrq(root: Root) -> tuple[bool, str]:
    value = sysctl_value(root, "kernel.sysrq")
    if value != "0":
        return False, f"sysctl.d sets kernel.sysrq={value if value is not None else 'nothing'}"
    if root.is_live:
        live = (root.read("proc/sys/kernel/sysrq") or "?").strip()
        if live != "0":
            return False, f"configured 0 but the running kernel has kernel.sysrq={live}"
    return True, "kernel.sysrq=0"


def check_getty(root: Root) -> tuple[bool, str]:
    if is_masked(root, "getty@tty1.service"):
        return True, "getty@tty1.service masked"
    targets = enabled_in(root, "getty@tty1.service")
    if targets:
        return False, f"getty@tty1.service enabled in {', '.join(targets)}"
    return True, "getty@tty1.service not enabled"


def check_usb_storage(root: Root) -> tuple[bool, str]:
    lines = modprobe_lines(root)
    blocked = {
        w[1].replace("-", "_")
        for w in lines
        if len(w) >= 3 and w[0] == "install" and w[2] in FALSE_COMMANDS
    }
    open_ = [m for m in USB_STORAGE_MODULES if m not in blocked]
    if open_:
        return False, f"no 'install <module> /bin/false' for {', '.join(open_)}"
    if root.is_live:
        loaded = [m for m in USB_STORAGE_MODULES if (root / f"sys/module/{m}").exists()]
        if loaded:
            return False, f"blocked in modprobe.d but loaded now: {', '.join(loaded)}"
    return True, "usb_storage and uas cannot load"


def _sshd_lines(root: Root, rel: str, depth: int = 0) -> list[list[str]]:
    text = root.read(rel)
    if text is None or depth > 4:
        return []
    out: list[list[str]] = []
    for raw in text.splitlines():
        words = shlex.split(raw, comments=True) if raw.strip() else []
        if not words:
            continue
        key = words[0].lower()
        if key == "match":
            break  # settings below a Match block are conditional, not global
        if key == "include":
            for pattern in words[1:]:
                pattern = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
                for path in sorted(root.path.glob(pattern.lstrip("/"))):
                    out.extend(_sshd_lines(root, str(path.relative_to(root.path)), depth + 1))
            continue
        out.append(words)
    return out


def check_ssh_passwords(root: Root) -> tuple[bool, str]:
    if root.read("etc/ssh/sshd_config") is None:
        return True, "no SSH server configured"
    first: dict[str, str] = {}
    for words in _sshd_lines(root, "etc/ssh/sshd_config"):
        if len(words) >= 2:
            first.setdefault(words[0].lower(), words[1].lower())
    kbd = first.get("kbdinteractiveauthentication", first.get("challengeresponseauthentication"))
    bad = []
    if first.get("passwordauthentication", "yes") != "no":
        bad.append(f"PasswordAuthentication {first.get('passwordauthentication', 'unset (yes)')}")
    if (kbd or "yes") != "no":
        bad.append(f"KbdInteractiveAuthentication {kbd or 'unset (yes)'}")
    if first.get("permitemptypasswords", "no") != "no":
        bad.append("PermitEmptyPasswords yes")
    return (not bad), ("; ".join(bad) if bad else "keys only")


def check_no_display_manager(root: Root) -> tuple[bool, str]:
    found = []
    if find_unit(root, "display-manager.service") and not is_masked(
        root, "display-manager.service"
    ):
        found.append("display-manager.service")
    found += [u for u in DISPLAY_MANAGERS if enabled_in(root, u)]
    for d in ("etc/systemd/system",):
        base = root / d
        if base.is_dir():
            for wants in base.glob("*.wants/cage@*.service"):
                found.append(wants.name)
    return (not found), ("enabled: " + ", ".join(found) if found else "none enabled")


_CMDLINE_FILES = (
    "boot/firmware/cmdline.txt",
    "boot/cmdline.txt",
    "etc/kernel/cmdline",
    "etc/default/grub",
)


def check_console_blank(root: Root) -> tuple[bool, str]:
    files = list(_CMDLINE_FILES)
    grub_d = root / "etc/default/grub.d"
    if grub_d.is_dir():
        files += [str(p.relative_to(root.path)) for p in sorted(grub_d.glob("*.cfg"))]
    where = [f for f in files if "consoleblank=0" in (root.read(f) or "").replace('"', " ").split()]
    if not where:
        return False, "no consoleblank=0 in cmdline.txt, /etc/kernel/cmdline or GRUB config"
    if root.is_live:
        live = (root.read("sys/module/kernel/parameters/consoleblank") or "?").strip()
        if live != "0":
            return False, f"configured in {where[0]} but the running kernel blanks after {live} s"
    return True, f"consoleblank=0 in {', '.join(where)}"


def check_hardware_watchdog(root: Root) -> tuple[bool, str]:
    raw = manager_settings(root, "system").last("Manager", "RuntimeWatchdogSec")
    span = timespan_s(raw)
    if span is None or not 0 < span <= HARDWARE_WATCHDOG_MAX_S:
        return False, (
            f"RuntimeWatchdogSec={raw or 'unset'} (expected 1..{HARDWARE_WATCHDOG_MAX_S:.0f} s)"
        )
    return True, f"RuntimeWatchdogSec={raw}"


RULES: tuple[Rule, ...] = (
    Rule("kiosk-installed", "The kiosk service is installed and enabled",
         "install systemd/etc/systemd/system/kiosk.service; systemctl enable kiosk.service",
         check_kiosk_installed),
    Rule("kiosk-hardened", "The kiosk service is hardened (read-only, no caps, closed devices)",
         "use the shipped kiosk.service; drop-ins must not weaken it",
         check_kiosk_hardened),
    Rule("kiosk-watchdog", "The kiosk service has a watchdog and always restarts",
         "Type=notify, NotifyAccess=main, WatchdogSec=30, Restart=always in kiosk.service",
         check_kiosk_watchdog),
    Rule("kiosk-out-of-order", "Repeated failures show the out-of-order screen",
         "StartLimitBurst= and OnFailure=kiosk-out-of-order.service; install that unit",
         check_out_of_order),
    Rule("logind-vts", "No spare VTs (no getty on Ctrl+Alt+Fn)",
         "install /etc/systemd/logind.conf.d/kiosk.conf (NAutoVTs=0, ReserveVT=0)",
         check_logind_vts),
    Rule("logind-keys", "Power, suspend, reboot keys and lid switch are ignored",
         "install /etc/systemd/logind.conf.d/kiosk.conf (Handle*=ignore)",
         check_logind_keys),
    Rule("ctrl-alt-del", "Ctrl+Alt+Del does nothing",
         "systemctl mask ctrl-alt-del.target; install /etc/systemd/system.conf.d/kiosk.conf",
         check_ctrl_alt_del),
    Rule("sysrq", "Magic SysRq keys are off",
         "install /etc/sysctl.d/90-kiosk.conf (kernel.sysrq = 0); sysctl -p it",
         check_sysrq),
    Rule("getty-tty1", "No login prompt on tty1",
         "systemctl mask getty@tty1.service",
         check_getty),
    Rule("usb-storage", "USB storage cannot be used",
         "install /etc/modprobe.d/kiosk-usb-storage.conf; rmmod uas usb_storage",
         check_usb_storage),
    Rule("ssh-passwords", "SSH accepts keys only, no passwords",
         "install /etc/ssh/sshd_config.d/kiosk.conf; systemctl reload ssh",
         check_ssh_passwords),
    Rule("no-display-manager", "No display manager or other graphical session",
         "systemctl disable --now <display manager>; systemctl set-default multi-user.target",
         check_no_display_manager),
    Rule("console-blank", "The console never blanks",
         "add consoleblank=0 to cmdline.txt (Pi) or install /etc/default/grub.d/kiosk.cfg "
         "and run update-grub (NUC); reboot",
         check_console_blank),
    Rule("hardware-watchdog", "The hardware watchdog guards systemd",
         "install /etc/systemd/system.conf.d/kiosk.conf (RuntimeWatchdogSec=15s)",
         check_hardware_watchdog),
)  # fmt: skip


def run_all(root: Root) -> list[Finding]:
    return [rule.run(root) for rule in RULES]
