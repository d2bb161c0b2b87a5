package envread

import (
	"testing"

	"github.com/env2vault/env2vault/internal/envsite"
)

// FuzzReads checks that no input panics and that every read is inside
// the file.
func FuzzReads(f *testing.F) {
	seeds := []string{
		"package main\nimport xos \"os\"\nvar a = xos.Getenv(\"A\")\n",
		"import os\nfrom os import environ as E\na = os.environ.get('A', 'd')\nb = E['B']\n",
		"const { X, Y: y, Z = 'd', ...r } = process.env;\nconst a = process.env['A'];\n",
		"const k = import.meta.env.VITE_K;\n",
		"({ X } = process.env);\ndelete process.env.A;\n",
		"const a = process . /* c */ env . A; const b = process\n.env?.B;\n",
		"const a = process. // c\n  env.A;\n",
	}
	for _, s := range seeds {
		for _, ext := range []string{".go", ".py", ".js", ".ts", ".tsx"} {
			f.Add(ext, s)
		}
	}
	f.Fuzz(func(t *testing.T, ext, src string) {
		path := "f" + ext
		if !Supported(path) {
			return
		}
		reads, _ := Reads(path, []byte(src))
		// The pre-filter must never hide a read.
		if k, _ := lookup(path); !k.goSrc && !mayRead(k.grammar, []byte(src)) {
			_ = envsite.Parse(k.grammar, []byte(src), func(tr *envsite.Tree) error {
				if s := tr.Sites(); len(s) > 0 && !tr.Root.HasError() {
					t.Fatalf("pre-filter skipped a file with %d reads", len(s))
				}
				return nil
			})
		}
		lines := 1
		for _, c := range src {
			if c == '\n' {
				lines++
			}
		}
		for _, rd := range reads {
			if rd.Line < 1 || rd.Line > lines || rd.Column < 1 || rd.Key == "" {
				t.Fatalf("read out of range: %+v (file has %d lines)", rd, lines)
			}
		}
	})
}
