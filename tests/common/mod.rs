//! The test rig: nginx fixture, free ports, clients.
