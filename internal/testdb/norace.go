//go:build !race

package testdb

const raceDetector = false
