package discover

import (
	"github.com/env2vault/env2vault/secret"
)

// Verdict is how a Detector classifies one .env entry.
type Verdict struct {
	Class   Classification
	Reason  string
	Rule    string
	Service string
	Hint    string
}

// Detector finds hardcoded keys and classifies .env entries. The default
// (NewDetector) is backed by discover/detect; tests may substitute their
// own.
type Detector interface {
	// Hardcoded returns the keys written into a text file at path
	// (slash-separated, relative to its repo) as hardcoded findings with
	// Line, Column, Rule, Service, Reason, Hint, Context and Value set.
	Hardcoded(path string, content []byte) []Finding
	// ClassifyEntry classifies one .env entry.
	ClassifyEntry(key string, v secret.Value) Verdict
	// ComposeEnvFiles returns the paths a Compose file names under
	// env_file:, relative to the Compose file's folder.
	ComposeEnvFiles(content []byte) []string
}

// EnvReader finds code that reads environment variables.
type EnvReader interface {
	// Supported reports whether Reads understands files like path.
	Supported(path string) bool
	// Reads returns env-read findings (Line, Column, Key, Language set).
	// Like envread.Reads, it may return findings along with an error for
	// a file with syntax errors.
	Reads(path string, content []byte) ([]Finding, error)
}
