package inject

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// Command is a child process to run with injected variables.
type Command struct {
	Name string
	Args []string
	Env  []string
	Dir  string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// KillGrace is how long a cancelled child may take to exit after SIGTERM
// before it is killed.
var KillGrace = 10 * time.Second

// forwarded are the signals passed on to the child.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Exec runs c, forwarding signals to it, and returns its exit code (128+n
// when a signal n ended it, as shells report). It returns an error only
// when the child could not start. Cancelling ctx sends SIGTERM and then,
// after a grace period the child ignores, SIGKILL.
func Exec(ctx context.Context, c Command) (int, error) {
	path, err := exec.LookPath(c.Name)
	if err != nil {
		return 127, fmt.Errorf("cannot run %s: %w", c.Name, err)
	}
	cmd := exec.Command(path, c.Args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)

	if err := cmd.Start(); err != nil {
		return 126, fmt.Errorf("cannot start %s: %w", c.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	cancelled := ctx.Done()
	var kill <-chan time.Time
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case <-cancelled:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			cancelled = nil
			kill = time.After(KillGrace)
		case <-kill:
			_ = cmd.Process.Kill()
		case err := <-done:
			return exitCode(err)
		}
	}
}

func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 1, err
}
