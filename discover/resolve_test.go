package discover

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	k1 := "FAKEKEY_" + strings.Repeat("r", 10)
	k2 := "FAKEKEY_" + strings.Repeat("s", 10)
	writeTree(t, root, map[string]string{
		"svc/.env":     "A=" + k1 + "\nB=x\nA=\"" + k2 + "\"\n",
		"svc/.env.bad": "A=" + k1 + "\nB=\"unterminated\n",
		"svc/app.js":   "a = '" + k1 + "'\n\nb = '" + k2 + "'\n",
		"svc/one.js":   "\n\nc = '" + k2 + "'\n",
	})
	cases := []struct {
		name string
		loc  Location
		want string
		err  error
	}{
		{"env by key and line", Location{Root: root, Repo: "svc", Path: ".env", Key: "A", Line: 1, Kind: KindEnvFile}, k1, nil},
		{"env duplicate on its line", Location{Root: root, Repo: "svc", Path: ".env", Key: "A", Line: 3, Kind: KindEnvFile}, k2, nil},
		{"env line moved: last wins", Location{Root: root, Repo: "svc", Path: ".env", Key: "A", Line: 9, Kind: KindEnvFile}, k2, nil},
		{"env before a bad line", Location{Root: root, Repo: "svc", Path: ".env.bad", Key: "A", Line: 1, Kind: KindEnvFile}, k1, nil},
		{"env key gone", Location{Root: root, Repo: "svc", Path: ".env", Key: "GONE", Line: 1, Kind: KindEnvFile}, "", ErrNotFound},
		{"hardcoded on its line", Location{Root: root, Repo: "svc", Path: "app.js", Rule: "fake-key", Line: 3, Kind: KindHardcoded}, k2, nil},
		{"hardcoded moved, only one", Location{Root: root, Repo: "svc", Path: "one.js", Rule: "fake-key", Line: 1, Kind: KindHardcoded}, k2, nil},
		{"hardcoded moved, ambiguous", Location{Root: root, Repo: "svc", Path: "app.js", Rule: "fake-key", Line: 2, Kind: KindHardcoded}, "", ErrNotFound},
		{"hardcoded other rule", Location{Root: root, Repo: "svc", Path: "app.js", Rule: "other", Line: 1, Kind: KindHardcoded}, "", ErrNotFound},
		{"missing file", Location{Root: root, Repo: "svc", Path: "nope", Key: "A", Kind: KindEnvFile}, "", fs.ErrNotExist},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := resolveWith(fakeDetector{}, c.loc)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				for _, k := range []string{k1, k2} {
					if strings.Contains(err.Error(), k) {
						t.Fatal("error holds the value")
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Reveal() != c.want {
				t.Fatalf("got the wrong value (len %d, want len %d)", v.Len(), len(c.want))
			}
		})
	}
	if _, err := resolveWith(fakeDetector{}, Location{Root: root, Repo: "svc", Path: "app.js", Kind: KindEnvRead}); err == nil {
		t.Error("env-read locations hold no value")
	}
}
