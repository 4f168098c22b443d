// Package procgroup starts the real servers the tests run (nginx, apache,
// haproxy …) in their own process group and stops the whole group, workers
// included. Off Unix there are no process groups: it stops the process
// alone (the servers are Debian packages and not expected there).
package procgroup
