package discover

import (
	"github.com/env2vault/env2vault/discover/envread"
)

var errSyntax = envread.ErrSyntax

// NewEnvReader returns the EnvReader backed by discover/envread (Go,
// Python, JavaScript and TypeScript).
func NewEnvReader() EnvReader { return envReader{} }

type envReader struct{}

func (envReader) Supported(path string) bool { return envread.Supported(path) }

func (envReader) Reads(path string, content []byte) ([]Finding, error) {
	reads, err := envread.Reads(path, content)
	out := make([]Finding, 0, len(reads))
	for _, r := range reads {
		out = append(out, Finding{
			Kind:     KindEnvRead,
			Path:     path,
			Line:     r.Line,
			Column:   r.Column,
			Key:      r.Key,
			Language: r.Language,
		})
	}
	return out, err
}
