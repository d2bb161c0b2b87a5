package discover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/env2vault/env2vault/discover/dotenv"
	"github.com/env2vault/env2vault/secret"
)

// Location names one place a secret value is defined, as plan sources
// record it.
type Location struct {
	Root string
	Repo string
	Path string
	Line int
	Key  string
	Rule string
	Kind Kind
}

// ErrNotFound is wrapped by Resolve's error when the file no longer
// defines the value at that location.
var ErrNotFound = errors.New("the value is no longer there")

// file returns the location's file on disk.
func (loc Location) file() string {
	return filepath.Join(loc.Root, filepath.FromSlash(loc.Repo), filepath.FromSlash(loc.Path))
}

func (loc Location) String() string {
	s := fmt.Sprintf("%s:%d", filepath.ToSlash(filepath.Join(loc.Repo, loc.Path)), loc.Line)
	if loc.Key != "" {
		s += " (" + loc.Key + ")"
	}
	return s
}

var (
	resolveOnce sync.Once
	resolveDet  Detector
	resolveErr  error
)

// resolveDetector is the detector Resolve uses, built once.
func resolveDetector() (Detector, error) {
	resolveOnce.Do(func() { resolveDet, resolveErr = NewDetector() })
	return resolveDet, resolveErr
}

// Resolve re-reads the value defined at loc from disk (an .env entry by
// key, or a hardcoded key by rule on that line). migrate uses it to push
// the current value and to notice sources that changed since planning.
//
// An .env entry is picked by key; when the key appears more than once,
// the entry on loc.Line wins, else the last one (the one loaders keep). A
// hardcoded key is the detector's finding with loc.Rule on loc.Line, or
// the only finding with that rule in the file when lines moved. The error
// names the location, never the value.
func Resolve(ctx context.Context, loc Location) (secret.Value, error) {
	if err := ctx.Err(); err != nil {
		return secret.Value{}, err
	}
	det, err := resolveDetector()
	if err != nil {
		return secret.Value{}, err
	}
	return resolveWith(det, loc)
}

func resolveWith(det Detector, loc Location) (secret.Value, error) {
	if loc.Path == "" {
		return secret.Value{}, errors.New("resolving a secret: the location has no file")
	}
	content, err := os.ReadFile(loc.file())
	if err != nil {
		return secret.Value{}, fmt.Errorf("resolving %s: %w", loc, err)
	}
	defer clear(content)
	switch loc.Kind {
	case KindEnvFile:
		return resolveEnv(loc, content)
	case KindHardcoded:
		return resolveHardcoded(det, loc, content)
	}
	return secret.Value{}, fmt.Errorf("resolving %s: a %q finding holds no value", loc, loc.Kind)
}

func resolveEnv(loc Location, content []byte) (secret.Value, error) {
	entries, err := dotenv.ParseBytes(content)
	if err != nil {
		// Entries before the bad line are still usable.
		err = fmt.Errorf("%s: %w", loc.Path, err)
	}
	var match []dotenv.Entry
	for _, e := range entries {
		if e.Key == loc.Key {
			match = append(match, e)
		}
	}
	for _, e := range match {
		if e.Line == loc.Line {
			return e.Value, nil
		}
	}
	if len(match) > 0 {
		return match[len(match)-1].Value, nil
	}
	if err != nil {
		return secret.Value{}, fmt.Errorf("resolving %s: %w", loc, err)
	}
	return secret.Value{}, fmt.Errorf("resolving %s: %s is not defined in %s: %w", loc, loc.Key, loc.Path, ErrNotFound)
}

func resolveHardcoded(det Detector, loc Location, content []byte) (secret.Value, error) {
	var same []Finding
	for _, f := range det.Hardcoded(loc.Path, content) {
		if f.Rule != loc.Rule {
			continue
		}
		if f.Line == loc.Line {
			return f.Value, nil
		}
		same = append(same, f)
	}
	if len(same) == 1 {
		return same[0].Value, nil
	}
	if len(same) > 1 {
		return secret.Value{}, fmt.Errorf("resolving %s: no %s key on line %d and %d elsewhere in the file: %w", loc, loc.Rule, loc.Line, len(same), ErrNotFound)
	}
	return secret.Value{}, fmt.Errorf("resolving %s: no %s key in the file any more: %w", loc, loc.Rule, ErrNotFound)
}
