//! What a service command needs of a device besides capture: its controls
//! (brightness, vivid's test-pattern and error-injection controls), listed,
//! read and set, so that callers need neither the kernel ABI ([`crate::sys`])
//! nor the per-ioctl functions ([`crate::calls`]).

use crate::calls::{self, CtrlInfo};
use crate::sys::{CTRL_FLAG_DISABLED, CTRL_TYPE_BOOLEAN, CTRL_TYPE_INTEGER, CTRL_TYPE_MENU};
use crate::Device;

pub use crate::calls::{CtrlError, QueryCtrlError};

/// A control that takes a value: an integer, boolean or menu control that
/// is not disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// As the driver names it ("Brightness").
    pub name: String,
    pub minimum: i32,
    pub maximum: i32,
    pub default_value: i32,
    id: u32,
}

impl Control {
    /// Its current value on `device`.
    pub fn value(&self, device: &Device) -> Result<i32, CtrlError> {
        calls::g_ctrl(device.fd(), self.id)
    }

    /// Sets it on `device`; the driver refuses a value out of its range.
    pub fn set(&self, device: &Device, value: i32) -> Result<(), CtrlError> {
        calls::s_ctrl(device.fd(), self.id, value)
    }
}

/// The controls of `device` that take a value, in the driver's order.
pub fn settable_controls(device: &Device) -> Result<Vec<Control>, QueryCtrlError> {
    let mut out = Vec::new();
    let mut id = 0;
    while let Some(c) = calls::queryctrl_next(device.fd(), id)? {
        id = c.id;
        if takes_a_value(&c) {
            out.push(Control {
                name: c.name,
                minimum: c.minimum,
                maximum: c.maximum,
                default_value: c.default_value,
                id: c.id,
            });
        }
    }
    Ok(out)
}

/// Integers, booleans and menus that are not disabled; not buttons,
/// classes, strings or integer menus.
fn takes_a_value(c: &CtrlInfo) -> bool {
    let kind = matches!(
        c.kind,
        CTRL_TYPE_INTEGER | CTRL_TYPE_BOOLEAN | CTRL_TYPE_MENU
    );
    kind && c.flags & CTRL_FLAG_DISABLED == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::CTRL_TYPE_INTEGER_MENU;

    fn info(kind: u32, flags: u32) -> CtrlInfo {
        CtrlInfo {
            id: 0x0098_0900,
            kind,
            name: "Brightness".into(),
            minimum: 0,
            maximum: 255,
            default_value: 128,
            flags,
        }
    }

    #[test]
    fn only_enabled_integers_booleans_and_menus_take_a_value() {
        for kind in [CTRL_TYPE_INTEGER, CTRL_TYPE_BOOLEAN, CTRL_TYPE_MENU] {
            assert!(takes_a_value(&info(kind, 0)), "{kind}");
            assert!(!takes_a_value(&info(kind, CTRL_FLAG_DISABLED)), "{kind}");
        }
        // A button (4), a control class (6) and an integer menu do not.
        for kind in [4, 6, CTRL_TYPE_INTEGER_MENU] {
            assert!(!takes_a_value(&info(kind, 0)), "{kind}");
        }
    }
}
