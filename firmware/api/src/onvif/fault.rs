//! SOAP 1.2 faults with ONVIF's subcodes (ONVIF Core, "Error handling"),
//! and the HTTP status each goes with (SOAP 1.2's HTTP binding: 400 for a
//! sender's fault, 500 for the receiver's and for a version mismatch).

use super::write::Doc;

/// Why a request was not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No valid WS-UsernameToken, or a lockout: env:Sender ter:NotAuthorized.
    NotAuthorized(String),
    /// An operation this device does not serve: env:Receiver
    /// ter:ActionNotSupported.
    ActionNotSupported(String),
    /// A service category this device does not have: env:Receiver
    /// ter:ActionNotSupported ter:NoSuchService.
    NoSuchService(String),
    /// No profile with the token asked for: env:Sender ter:InvalidArgVal
    /// ter:NoProfile.
    NoProfile(String),
    /// A stream type or transport the device cannot serve: env:Sender
    /// ter:InvalidArgVal ter:InvalidStreamSetup.
    InvalidStreamSetup(String),
    /// A required argument is missing or malformed: env:Sender
    /// ter:InvalidArgVal.
    InvalidArg(String),
    /// Not a SOAP message we can read: env:Sender.
    Malformed(String),
    /// A SOAP 1.1 envelope (ONVIF is SOAP 1.2): env:VersionMismatch.
    VersionMismatch,
    /// The device could not answer now (a failed supervisor call, too many
    /// requests): env:Receiver.
    Receiver(String),
}

impl Fault {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Fault::NotAuthorized(_)
            | Fault::NoProfile(_)
            | Fault::InvalidStreamSetup(_)
            | Fault::InvalidArg(_)
            | Fault::Malformed(_) => 400,
            Fault::ActionNotSupported(_)
            | Fault::NoSuchService(_)
            | Fault::VersionMismatch
            | Fault::Receiver(_) => 500,
        }
    }

    /// The code and subcodes, outermost first.
    fn codes(&self) -> &'static [&'static str] {
        match self {
            Fault::NotAuthorized(_) => &["env:Sender", "ter:NotAuthorized"],
            Fault::ActionNotSupported(_) => &["env:Receiver", "ter:ActionNotSupported"],
            Fault::NoSuchService(_) => &[
                "env:Receiver",
                "ter:ActionNotSupported",
                "ter:NoSuchService",
            ],
            Fault::NoProfile(_) => &["env:Sender", "ter:InvalidArgVal", "ter:NoProfile"],
            Fault::InvalidStreamSetup(_) => {
                &["env:Sender", "ter:InvalidArgVal", "ter:InvalidStreamSetup"]
            }
            Fault::InvalidArg(_) => &["env:Sender", "ter:InvalidArgVal"],
            Fault::Malformed(_) => &["env:Sender"],
            Fault::VersionMismatch => &["env:VersionMismatch"],
            Fault::Receiver(_) => &["env:Receiver"],
        }
    }

    /// What the fault says to a person.
    pub fn reason(&self) -> &str {
        match self {
            Fault::NotAuthorized(r)
            | Fault::ActionNotSupported(r)
            | Fault::NoSuchService(r)
            | Fault::NoProfile(r)
            | Fault::InvalidStreamSetup(r)
            | Fault::InvalidArg(r)
            | Fault::Malformed(r)
            | Fault::Receiver(r) => r,
            Fault::VersionMismatch => {
                "this device speaks SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope) only"
            }
        }
    }

    /// The fault as a SOAP 1.2 envelope.
    pub fn to_xml(&self) -> String {
        let mut doc = Doc::new();
        doc.open("env:Fault").open("env:Code");
        let codes = self.codes();
        for (i, code) in codes.iter().enumerate() {
            if i > 0 {
                doc.open("env:Subcode");
            }
            doc.text("env:Value", code);
        }
        for _ in 1..codes.len() {
            doc.close();
        }
        doc.close().open("env:Reason");
        doc.open_with("env:Text", &[("xml:lang", "en")]);
        doc.chars(self.reason());
        doc.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onvif::soap;

    #[test]
    fn a_fault_carries_its_code_subcodes_and_reason() {
        let xml = Fault::NoProfile("no profile 'x'".into()).to_xml();
        assert!(xml.contains(
            "<env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value>\
             <env:Subcode><env:Value>ter:InvalidArgVal</env:Value>\
             <env:Subcode><env:Value>ter:NoProfile</env:Value></env:Subcode>\
             </env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">no profile &apos;x&apos;</env:Text>\
             </env:Reason></env:Fault></env:Body>"
                .replace("&apos;", "'")
                .as_str()
        ), "{xml}");
        let parsed = soap::envelope(xml.as_bytes()).expect("reparses");
        assert!(parsed.operation.is(soap::ENV, "Fault"));
        assert_eq!(Fault::NoProfile(String::new()).status(), 400);
    }

    #[test]
    fn each_fault_has_the_status_of_its_side() {
        assert_eq!(Fault::NotAuthorized("x".into()).status(), 400);
        assert_eq!(Fault::Malformed("x".into()).status(), 400);
        assert_eq!(Fault::ActionNotSupported("x".into()).status(), 500);
        assert_eq!(Fault::VersionMismatch.status(), 500);
        let xml = Fault::ActionNotSupported("GetFoo".into()).to_xml();
        assert!(xml.contains("<env:Value>env:Receiver</env:Value><env:Subcode><env:Value>ter:ActionNotSupported</env:Value></env:Subcode>"), "{xml}");
        let xml = Fault::Malformed("bad".into()).to_xml();
        assert!(
            xml.contains("<env:Code><env:Value>env:Sender</env:Value></env:Code>"),
            "{xml}"
        );
    }
}
