"""Root trees laid out as a locked kiosk terminal and as a stock, unlocked Debian box."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[2] / "systemd"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def link(root: Path, rel: str, target: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    os.symlink(target, path)


def debian_base(root: Path) -> None:
    """What a fresh Debian 12 brings that the audit looks at."""
    write(root, "etc/systemd/logind.conf", "[Login]\n#NAutoVTs=6\n#ReserveVT=6\n")
    write(root, "etc/systemd/system.conf", "[Manager]\n#RuntimeWatchdogSec=off\n")
    write(root, "usr/lib/sysctl.d/50-default.conf", "kernel.sysrq = 0x01b6\n")
    write(root, "lib/systemd/system/getty@.service", "[Service]\nExecStart=-/sbin/agetty\n")
    link(
        root,
        "etc/systemd/system/getty.target.wants/getty@tty1.service",
        "/lib/systemd/system/getty@.service",
    )
    write(
        root,
        "etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\n#PasswordAuthentication yes\n"
        "KbdInteractiveAuthentication no\nUsePAM yes\n",
    )
    write(root, "etc/default/grub", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n')


def locked_tree(root: Path) -> Path:
    debian_base(root)
    shutil.copytree(SHIPPED / "etc", root / "etc", dirs_exist_ok=True)
    units = "etc/systemd/system"
    link(
        root, f"{units}/multi-user.target.wants/kiosk.service", "/etc/systemd/system/kiosk.service"
    )
    link(root, f"{units}/ctrl-alt-del.target", "/dev/null")
    link(root, f"{units}/getty@tty1.service", "/dev/null")
    write(root, "boot/firmware/cmdline.txt", "console=tty3 root=/dev/mmcblk0p2 consoleblank=0\n")
    return root


def unlocked_tree(root: Path) -> Path:
    """A terminal set up by hand: every rule broken in a typical way."""
    debian_base(root)
    write(
        root,
        "etc/systemd/system/kiosk.service",
        "[Unit]\nDescription=kiosk\n[Service]\nType=simple\nUser=root\n"
        "ExecStart=/opt/kiosk/current/bin/kiosk run\n"
        "[Install]\nWantedBy=graphical.target\n",
    )
    write(root, "etc/sysctl.d/99-local.conf", "# kernel.sysrq = 0\n")
    write(root, "etc/modprobe.d/usb.conf", "blacklist usb-storage\n")
    write(root, "etc/ssh/sshd_config.d/local.conf", "PasswordAuthentication yes\n")
    write(root, "lib/systemd/system/lightdm.service", "[Service]\nExecStart=/usr/sbin/lightdm\n")
    link(root, "etc/systemd/system/display-manager.service", "/lib/systemd/system/lightdm.service")
    return root
