// SPDX-License-Identifier: Apache-2.0
//! Telling a supervisor that the node lives: systemd's notify socket and a hardware
//! watchdog device. Both are off unless configured, and both are petted on heartbeats
//! only, so they fire when the VM and heart stall together.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;

/// Where heartbeats are forwarded.
pub struct Notifier {
    systemd: Option<(UnixDatagram, OsString)>,
    /// Whether systemd asked for keep-alives (`WATCHDOG_USEC` set).
    systemd_watchdog: bool,
    ready_sent: bool,
    device: Option<std::fs::File>,
}

impl Notifier {
    /// From `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `HEART_WATCHDOG_PATH`.
    pub fn from_env() -> Notifier {
        // Paths are bytes: a non-UTF-8 one is still a path.
        let systemd = std::env::var_os("NOTIFY_SOCKET").filter(|p| !p.is_empty()).and_then(|path| {
            let sock = UnixDatagram::unbound().ok()?;
            Some((sock, path))
        });
        let device = std::env::var_os("HEART_WATCHDOG_PATH")
            .filter(|p| !p.is_empty())
            .and_then(|p| std::fs::OpenOptions::new().write(true).open(p).ok());
        Notifier { systemd, systemd_watchdog: std::env::var_os("WATCHDOG_USEC").is_some(), ready_sent: false, device }
    }

    /// A heartbeat arrived: the node is up (first time) and alive.
    pub fn beat(&mut self) {
        if !self.ready_sent {
            self.ready_sent = true;
            self.send_systemd("READY=1");
        } else if self.systemd_watchdog {
            self.send_systemd("WATCHDOG=1");
        }
        if let Some(dev) = self.device.as_mut() {
            let _ = dev.write_all(b"\0");
        }
    }

    /// heart is leaving on purpose: disarm the watchdog device where the driver allows
    /// (the "magic close" character), and tell systemd.
    pub fn stopping(&mut self) {
        if let Some(mut dev) = self.device.take() {
            let _ = dev.write_all(b"V");
        }
        self.send_systemd("STOPPING=1");
    }

    fn send_systemd(&self, msg: &str) {
        let Some((sock, path)) = &self.systemd else {
            return;
        };
        // A leading '@' names a socket in the abstract namespace.
        if let Some(name) = path.as_bytes().strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name) {
                let _ = sock.send_to_addr(msg.as_bytes(), &addr);
            }
        } else {
            let _ = sock.send_to(msg.as_bytes(), path);
        }
    }
}
