//! What a receiver would make of the packets an output sent: bytes,
//! continuity errors, PCR intervals and jitter, bitrate. (Being written;
//! see the analyser below as it lands.)
