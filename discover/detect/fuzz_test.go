package detect

import (
	"sort"
	"testing"

	gldetect "github.com/zricethezav/gitleaks/v8/detect"
)

// FuzzEngineMatchesGitleaks compares the engine with gitleaks' Detect on
// arbitrary content: every gitleaks finding must be reported.
//
//	go test ./discover/detect -run '^$' -fuzz FuzzEngineMatchesGitleaks -fuzztime 60s
func FuzzEngineMatchesGitleaks(f *testing.F) {
	files := trickyFiles()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if len(files[n]) < 4096 {
			f.Add(n, files[n])
		}
	}
	e, err := defaultEngine()
	if err != nil {
		f.Fatal(err)
	}
	gl := gldetect.NewDetector(e.cfg)
	gl.MaxDecodeDepth = maxDecodeDepth
	f.Fuzz(func(t *testing.T, path, content string) {
		want := gl.Detect(gldetect.Fragment{Raw: content, FilePath: path})
		have := map[string]bool{}
		for _, x := range e.detect(path, content) {
			have[findingKey(x)] = true
		}
		for _, w := range want {
			if !have[findingKey(w)] {
				t.Errorf("gitleaks found %s at %d:%d, the engine did not", w.RuleID, w.StartLine, w.StartColumn)
			}
		}
		// And Scan never panics on it.
		detector(t).Scan(path, []byte(content))
	})
}
