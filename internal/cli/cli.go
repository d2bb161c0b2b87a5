// Package cli holds what every env2vault command shares: injected I/O
// streams (so commands are testable without a terminal), exit codes and
// the redacting logger.
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"
)

// Exit codes shared by all commands. Commands document their own use of
// them; see README.md "Exit codes".
const (
	ExitOK       = 0 // nothing found / nothing to do / success
	ExitFound    = 1 // secrets found (scan, plan), or verification failed
	ExitFailure  = 2 // bad input, bad flags, I/O or backend errors
	ExitConflict = 3 // migrate or batch: conflicts or failed secrets
	ExitMigrated = 4 // batch: secrets were migrated
)

// IOStreams are a command's standard streams and what is known about the
// terminal behind them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY, OutTTY and ErrTTY report whether each stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
	// Color reports whether Out may use colour (a TTY and NO_COLOR unset).
	Color bool
}

// System returns the process's streams.
func System() *IOStreams {
	ios := &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	ios.Color = ios.OutTTY && !noColor && os.Getenv("TERM") != "dumb"
	return ios
}

// Test returns streams backed by buffers, none a terminal.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Logger returns a text logger on ErrOut. Secret values redact themselves
// (secret.Value implements slog.LogValuer), so nothing extra is needed.
func (s *IOStreams) Logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(s.ErrOut, &slog.HandlerOptions{Level: level}))
}

// ExitError makes the process exit with Code. When Err is non-nil it is
// printed first; a nil Err exits quietly (the command already reported).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit returns an error that exits with code after printing nothing more.
func Exit(code int) error { return &ExitError{Code: code} }

// Code returns the process exit code for err: 0 for nil, the ExitError's
// code, or ExitFailure for anything else.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}
