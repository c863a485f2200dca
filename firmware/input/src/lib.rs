//! Network transport-stream inputs: UDP (unicast and multicast) and SRT receivers, packet resync and continuity counting.

#![forbid(unsafe_code)]
