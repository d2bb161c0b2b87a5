package rewrite

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// Mask is what a secret value looks like in a diff.
const Mask = "****"

// Redactor masks every known secret value, and its base64 forms, in text.
type Redactor struct {
	r *strings.Replacer
}

// NewRedactor returns a Redactor for values (empty ones are ignored).
func NewRedactor(values []secret.Value) *Redactor {
	seen := map[string]bool{}
	var olds []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			olds = append(olds, s)
		}
	}
	for _, v := range values {
		s := v.Reveal()
		if s == "" {
			continue
		}
		add(s)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(s)))
		}
	}
	// Longest first, so a value containing another is masked whole.
	sort.Slice(olds, func(i, j int) bool {
		if len(olds[i]) != len(olds[j]) {
			return len(olds[i]) > len(olds[j])
		}
		return olds[i] < olds[j]
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, Mask)
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// Redact returns s with every known value masked.
func (r *Redactor) Redact(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// FileChange is one file rewrite would write.
type FileChange struct {
	// Repo is the repo's name as the plan gives it; Dir its folder.
	Repo string
	Dir  string
	// Path is relative to the repo, slash-separated.
	Path string
	// Old is the current content (nil when Create); New what is written.
	Old, New []byte
	Create   bool
	// Mode is the file's mode (kept on rewrite; 0644 for new files).
	Mode fs.FileMode
	// Why lists what changed, for people (never values).
	Why []string
	// Applied reports that Apply wrote the file.
	Applied bool
	// helper marks a generated helper or dependency file (go.mod): Apply
	// writes those before the code that uses them.
	helper bool
}

// Name returns "repo/path", the name Diff prints and Apply's filter sees.
func (f *FileChange) Name() string {
	if f.Repo == "" || f.Repo == "." {
		return f.Path
	}
	return path.Join(f.Repo, f.Path)
}

// Abs returns the file's path on disk.
func (f *FileChange) Abs() string {
	return filepath.Join(f.Dir, filepath.FromSlash(f.Path))
}

// Note kinds.
const (
	NoteFrontend = "frontend" // a key shipped to browsers: flagged, not rewritten
	NoteAction   = "action"   // something a person must do (create a CI secret, a store)
	NoteSkipped  = "skipped"  // a source rewrite could not change; fix by hand
)

// Note is something rewrite wants a person to know. Notes never hold
// values.
type Note struct {
	Kind string
	Repo string
	Path string
	Line int
	Text string
}

func (n Note) String() string {
	loc := n.Repo
	if n.Path != "" {
		loc = path.Join(n.Repo, n.Path)
	}
	if n.Line > 0 {
		loc += fmt.Sprintf(":%d", n.Line)
	}
	if loc == "" {
		return fmt.Sprintf("[%s] %s", n.Kind, n.Text)
	}
	return fmt.Sprintf("[%s] %s: %s", n.Kind, loc, n.Text)
}

// rewired is a secret whose reads rewrite sends to the backend; Verify
// checks each is present there first.
type rewired struct {
	name        string
	target      plan.Target
	fingerprint string
	value       secret.Value
}

// Changeset is every file change rewrite computed, in memory, plus notes.
// Nothing is written until Apply.
type Changeset struct {
	Files []*FileChange
	Notes []Note
	// Backend is the plan's backend.
	Backend plan.Backend
	secrets []rewired
	repos   map[string]bool // repo dirs that have changes
	redact  *Redactor
}

// Secrets returns the names of the secrets whose reads this changeset
// rewires (Verify checks each).
func (c *Changeset) Secrets() []string {
	out := make([]string, 0, len(c.secrets))
	for _, s := range c.secrets {
		out = append(out, s.name)
	}
	return out
}

// Redact masks every value the changeset knows of in s.
func (c *Changeset) Redact(s string) string { return c.redact.Redact(s) }

// Diff writes a unified diff of every change, with every secret value
// masked as ****.
func (c *Changeset) Diff(w io.Writer) error {
	for _, f := range c.Files {
		if err := c.DiffFile(w, f); err != nil {
			return err
		}
	}
	return nil
}

// DiffFile writes one file's redacted unified diff.
func (c *Changeset) DiffFile(w io.Writer, f *FileChange) error {
	oldLabel, newLabel := "a/"+f.Name(), "b/"+f.Name()
	if f.Create {
		oldLabel = "/dev/null"
	}
	d := udiff.Unified(oldLabel, newLabel, c.redact.Redact(string(f.Old)), c.redact.Redact(string(f.New)))
	_, err := io.WriteString(w, d)
	return err
}

// Apply writes the changes whose Name only accepts (nil accepts all),
// each atomically (temp file in the same folder, fsync, rename; the mode
// is kept). It refuses a file that changed on disk since Prepare read it,
// and stops at the first error; files already written stay written (each
// is complete on its own) and are marked Applied.
//
// Generated helpers (and go.mod/go.sum) are written first, so a run
// stopped part-way never leaves code calling a helper that does not bind
// its keys; a rerun merges with the helper and finishes the rest. Temp
// files an interrupted earlier write of the same file left behind are
// removed.
func (c *Changeset) Apply(ctx context.Context, only func(name string) bool) error {
	order := make([]*FileChange, 0, len(c.Files))
	for _, f := range c.Files {
		if f.helper {
			order = append(order, f)
		}
	}
	for _, f := range c.Files {
		if !f.helper {
			order = append(order, f)
		}
	}
	for _, f := range order {
		if only != nil && !only(f.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := os.ReadFile(f.Abs())
		switch {
		case f.Create && err == nil:
			return fmt.Errorf("%s was created since rewrite read the repo; run rewrite again", f.Name())
		case f.Create && errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("reading %s: %w", f.Name(), err)
		case !bytes.Equal(cur, f.Old):
			return fmt.Errorf("%s changed since rewrite read it; run rewrite again", f.Name())
		}
		target := f.Abs()
		if !f.Create {
			// Write through a symlink to the file it names, keeping the link.
			if real, err := filepath.EvalSymlinks(target); err == nil {
				target = real
			}
		}
		removeStaleTemps(target)
		if err := WriteFileAtomic(target, f.New, f.Mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.Name(), err)
		}
		f.Applied = true
	}
	return nil
}

// tempPrefix returns the name prefix of WriteFileAtomic's temporary files
// for name.
func tempPrefix(name string) string { return "." + filepath.Base(name) + ".env2vault-" }

// removeStaleTemps removes the temporary files an interrupted earlier
// WriteFileAtomic of name left in its folder (best effort).
func removeStaleTemps(name string) {
	ents, err := os.ReadDir(filepath.Dir(name))
	if err != nil {
		return
	}
	prefix := tempPrefix(name)
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), prefix); ok && e.Type().IsRegular() && isDigits(rest) {
			_ = os.Remove(filepath.Join(filepath.Dir(name), e.Name()))
		}
	}
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// WriteFileAtomic writes data to name through a temporary file in the
// same folder that is synced and renamed over name, so readers see the
// old or the new content, never a mix. Missing parent folders are
// created.
func WriteFileAtomic(name string, data []byte, mode fs.FileMode) error {
	if mode == 0 {
		mode = 0o644
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(name)+"*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode.Perm()); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Summary writes one line per file (what changed) and the notes.
func (c *Changeset) Summary(w io.Writer) error {
	for _, f := range c.Files {
		verb := "modify"
		if f.Create {
			verb = "create"
		}
		if _, err := fmt.Fprintf(w, "%-6s %s: %s\n", verb, f.Name(), strings.Join(f.Why, "; ")); err != nil {
			return err
		}
	}
	for _, n := range c.Notes {
		if _, err := fmt.Fprintln(w, c.redact.Redact(n.String())); err != nil {
			return err
		}
	}
	return nil
}
