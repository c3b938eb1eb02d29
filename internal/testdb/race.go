//go:build race

package testdb

const raceDetector = true
