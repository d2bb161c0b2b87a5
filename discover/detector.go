package discover

import (
	"fmt"

	"github.com/env2vault/env2vault/discover/detect"
	"github.com/env2vault/env2vault/secret"
)

// NewDetector returns the Detector backed by discover/detect (gitleaks'
// default rules plus env2vault's structural checks). Building it compiles
// the rules, so make one and share it; it is safe for concurrent use.
// .gitleaksignore entries are applied per repository by Scan, not here.
func NewDetector() (Detector, error) {
	d, err := detect.New(detect.Options{})
	if err != nil {
		return nil, fmt.Errorf("loading the secret detection rules: %w", err)
	}
	return detector{d}, nil
}

type detector struct{ d *detect.Detector }

func (d detector) Hardcoded(path string, content []byte) []Finding {
	leaks := d.d.Scan(path, content)
	out := make([]Finding, 0, len(leaks))
	for _, l := range leaks {
		out = append(out, Finding{
			Kind:           KindHardcoded,
			Path:           path,
			Line:           l.Line,
			Column:         l.Column,
			Key:            l.Key,
			Rule:           l.Rule,
			Service:        l.Service,
			Classification: ClassSecret,
			Reason:         l.Reason,
			Context:        Context(l.Context),
			Hint:           l.Hint,
			Value:          l.Value,
		})
	}
	return out
}

func (d detector) ClassifyEntry(key string, v secret.Value) Verdict {
	vd := d.d.ClassifyEntry(key, v)
	return Verdict{Class: Classification(vd.Class), Reason: vd.Reason, Rule: vd.Rule, Service: vd.Service, Hint: vd.Hint}
}

func (d detector) ComposeEnvFiles(content []byte) []string { return detect.ComposeEnvFiles(content) }
