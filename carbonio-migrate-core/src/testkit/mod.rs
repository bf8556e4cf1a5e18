//! Loopback servers and fault injectors for tests (feature `testkit`): a private
//! Dovecot instance per test run, and a TCP proxy that drops connections.
