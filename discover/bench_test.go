package discover

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/env2vault/env2vault/secret"
)

// nullDetector finds nothing, to measure the walk, reads and env-read
// parsing alone.
type nullDetector struct{}

func (nullDetector) Hardcoded(string, []byte) []Finding         { return nil }
func (nullDetector) ClassifyEntry(string, secret.Value) Verdict { return Verdict{Class: ClassConfig} }
func (nullDetector) ComposeEnvFiles([]byte) []string            { return nil }

// nullReader finds no env reads.
type nullReader struct{}

func (nullReader) Supported(string) bool                   { return false }
func (nullReader) Reads(string, []byte) ([]Finding, error) { return nil, nil }

// BenchmarkWalkGOROOT scans $GOROOT/src with detectors that find nothing:
// the cost of walking and reading alone.
func BenchmarkWalkGOROOT(b *testing.B) {
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(src); err != nil {
		b.Skip("no GOROOT/src")
	}
	for b.Loop() {
		res, err := Scan(context.Background(), Options{Paths: []string{src}, SkipDirs: []string{}, Detector: nullDetector{}, EnvReader: nullReader{}})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Stats.FilesScanned), "files")
	}
}

// BenchmarkEnvReadsGOROOT adds the env-read parsers.
func BenchmarkEnvReadsGOROOT(b *testing.B) {
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(src); err != nil {
		b.Skip("no GOROOT/src")
	}
	for b.Loop() {
		res, err := Scan(context.Background(), Options{Paths: []string{src}, SkipDirs: []string{}, Detector: nullDetector{}})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Findings)), "reads")
	}
}

// BenchmarkScanGOROOT is the whole scan of $GOROOT/src with the real
// detector (what scripts/bench-scan times against gitleaks).
func BenchmarkScanGOROOT(b *testing.B) {
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(src); err != nil {
		b.Skip("no GOROOT/src")
	}
	for b.Loop() {
		res, err := Scan(context.Background(), Options{Paths: []string{src}, SkipDirs: []string{}})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Stats.Secrets), "secrets")
	}
}
