package discover

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/env2vault/env2vault/secret"
)

func TestIncomplete(t *testing.T) {
	tests := []struct {
		skip Skip
		want bool
	}{
		{Skip{Path: "r/.env", Reason: SkipMalformed, Detail: "line 1: unterminated double quote"}, true},
		{Skip{Path: "r/app.py", Reason: SkipMalformed, Detail: "reading env-var uses: x"}, true},
		{Skip{Path: "r", Reason: SkipGit, Detail: "git log failed"}, true},
		{Skip{Path: "r/src", Reason: SkipUnreadable, Detail: "permission denied"}, true},
		{Skip{Path: "r/.env", Reason: SkipBinary}, true},
		{Skip{Path: "r/prod.env", Reason: SkipTooLarge, Detail: "over"}, true},
		{Skip{Path: "r/.env.local", Reason: SkipSpecial, Detail: "not a regular file"}, true},
		{Skip{Path: "r/.env", Reason: SkipUnreadable, Detail: detailBrokenSymlink}, true},
		{Skip{Path: "r/.env", Reason: SkipSymlinkLoop, Detail: detailSelfLink}, true},
		{Skip{Path: "r/docs/latest", Reason: SkipUnreadable, Detail: detailBrokenSymlink}, false},
		{Skip{Path: "r/loop", Reason: SkipSymlinkLoop, Detail: detailSelfLink}, false},
		{Skip{Path: "r/logo.png", Reason: SkipBinary}, false},
		{Skip{Path: "r/dump.sql", Reason: SkipTooLarge}, false},
		{Skip{Path: "r/sock", Reason: SkipSpecial}, false},
		{Skip{Path: "r/node_modules", Reason: SkipIgnoredDir}, false},
		{Skip{Path: "r/.env.d", Reason: SkipSymlinkDir}, false},
	}
	for _, tt := range tests {
		if got := incomplete(tt.skip); got != tt.want {
			t.Errorf("incomplete(%+v) = %v, want %v", tt.skip, got, tt.want)
		}
	}
}

// TestIncompleteFromScan checks the details Incomplete relies on are the
// ones Scan writes.
func TestIncompleteFromScan(t *testing.T) {
	dir := t.TempDir()
	for name, target := range map[string]string{".env": "missing.env", "dangling": "missing.txt", "loop": "loop", ".env.loop": ".env.loop"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, ".env.fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	fp, err := secret.NewFingerprinter([]byte("incomplete-test-key-0001"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(context.Background(), Options{Paths: []string{dir}, Fingerprinter: fp, SkipHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range res.Incomplete() {
		got[filepath.Base(s.Path)] = true
	}
	want := map[string]bool{".env": true, ".env.loop": true, ".env.fifo": true}
	if len(got) != len(want) || !got[".env"] || !got[".env.loop"] || !got[".env.fifo"] {
		t.Errorf("Incomplete() = %v, want %v (skipped: %+v)", got, want, res.Skipped)
	}
}

func TestIncompleteError(t *testing.T) {
	if err := (&Result{Skipped: []Skip{{Path: "r/node_modules", Reason: SkipIgnoredDir}}}).IncompleteError(); err != nil {
		t.Errorf("nothing incomplete, err = %v", err)
	}
	res := &Result{}
	for i := range 12 {
		res.Skipped = append(res.Skipped, Skip{Path: filepath.Join("r", "svc"+string(rune('a'+i)), ".env"), Reason: SkipMalformed, Detail: "line 3: unterminated double quote"})
	}
	err := res.IncompleteError()
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
	msg := err.Error()
	for _, want := range []string{"12 files or folders that may hold secrets could not be read", "r/svca/.env: malformed: line 3: unterminated double quote", "... and 2 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}
