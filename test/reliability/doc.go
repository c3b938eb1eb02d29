// Package reliability holds Inlet's fault tests: each starts the real inlet
// binary against a real PostgreSQL, puts it under load with the senders of
// cmd/inlet-load, injects one fault (kill -9, a database outage, overload,
// slow clients, SIGTERM) and then checks that every acknowledged event is
// stored exactly once. They take minutes, so they run only with
// INLET_RELIABILITY=1 (make test-reliability); docs/reliability.md explains
// what each one proves.
package reliability
