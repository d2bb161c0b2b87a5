package javascript

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/env2vault/env2vault/rewrite"
)

// FuzzRewrite checks that the rewriter never panics, and that a file
// without syntax errors still has none after rewriting, in each grammar.
func FuzzRewrite(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.input"))
	for _, p := range inputs {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for ext := uint8(0); ext < 3; ext++ {
			f.Add(string(src), "LITERAL-stripe-0123456789abcdef", ext)
		}
	}
	f.Add("const { A, SESSION_SECRET: s = process.env.SESSION_SECRET } = process.env;", "x", uint8(0))
	f.Add("const x = <a b=\"abc\">{process.env.SESSION_SECRET}</a>;", "abc", uint8(2))
	exts := []string{"a.js", "a.ts", "a.tsx"}
	f.Fuzz(func(t *testing.T, src, literal string, ext uint8) {
		p := exts[int(ext)%len(exts)]
		l := forRepo(t, cjsRepo)
		e := rewrite.Edit{Keys: secretKeys, Literals: []rewrite.Literal{lit(1, literal, "LIT_VAR")}}
		out, n, err := l.Rewrite(p, []byte(src), e)
		if err != nil {
			if errors.Is(err, ErrFrontend) {
				return
			}
			return // syntax errors and hand-fix cases are reported
		}
		if n == 0 && string(out) != src {
			t.Fatalf("no change reported but output differs")
		}
		if !parses(p, out) {
			t.Fatalf("valid input became invalid:\n%s\n---\n%s", src, out)
		}
	})
}
