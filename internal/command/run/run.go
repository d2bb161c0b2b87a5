// Package run implements `env2vault run`: runtime injection of secrets
// into a child process.
package run

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/inject"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
)

// Options are the run command's settings.
type Options struct {
	IO           *cli.IOStreams
	Environment  string
	Dir          string
	EnvFiles     []string
	EnvMap       string
	PlanFile     string
	Override     bool
	InsecureHTTP bool
	// Endpoint overrides the GCP or AWS endpoint (tests, VPC endpoints).
	Endpoint string
	Command  []string
	// Base is the caller's environment (os.Environ()).
	Base []string
}

// NewCmd returns the `run` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARGS...]",
		Short: "Run a command with secrets resolved from the vault into its environment",
		Long: `Run resolves the vault references that 'env2vault rewrite' left in .env files
(vault://MOUNT/PATH#FIELD, gcp-sm://projects/P/secrets/S, aws-sm://REGION/NAME),
and optionally every secret a plan holds for one environment, and starts
COMMAND with them in its environment only. Nothing is written to disk and no
value is printed. Signals are forwarded and COMMAND's exit code is returned.

The .env files read are those in --dir whose environment (by the same
file-name rules as 'plan') is --env: .env, .env.development, .env.local for
dev; .env.production, .env.prod for prod; and so on. Variables already set in
the calling environment win unless --override is given.

Credentials come from the backend's own conventions (VAULT_ADDR, VAULT_TOKEN
or ~/.vault-token; Application Default Credentials; the AWS credential chain).`,
		Example: `  env2vault run -- go run .
  env2vault run --env prod -- node src/server.js
  env2vault run --plan env2vault-plan.yaml --env staging -- docker compose up`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Command = args
			opts.Base = os.Environ()
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Environment, "env", plan.EnvDev, "environment to run in: selects .env files and plan secrets")
	f.StringVar(&opts.Dir, "dir", ".", "folder holding the .env files")
	f.StringArrayVar(&opts.EnvFiles, "env-file", nil, "read this .env file instead of the defaults (repeatable)")
	f.StringVar(&opts.EnvMap, "env-map", "", "override file-name environments, e.g. '.env.qa=staging'")
	f.StringVar(&opts.PlanFile, "plan", "", "also inject the plan's secrets for --env")
	f.BoolVar(&opts.Override, "override", false, "let .env and plan values replace variables already set")
	f.BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http:// to a non-loopback Vault")
	f.StringVar(&opts.Endpoint, "endpoint", "", "GCP or AWS endpoint override")
	f.SetInterspersed(false)
	return cmd
}

// Run resolves the secrets and runs the command, returning an ExitError
// carrying the child's exit code when it is not zero.
func Run(ctx context.Context, opts *Options) error {
	if len(opts.Command) == 0 {
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("no command given: env2vault run -- COMMAND [ARGS...]")}
	}
	envMap, err := plan.ParseEnvMap(opts.EnvMap)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	in := inject.Options{
		Environment: opts.Environment,
		Dir:         opts.Dir,
		EnvFiles:    opts.EnvFiles,
		EnvMap:      envMap,
		Override:    opts.Override,
		Open: func(ctx context.Context, b plan.Backend) (migrate.Backend, error) {
			return migrate.Open(ctx, b, migrate.Options{AllowInsecureHTTP: opts.InsecureHTTP, Endpoint: opts.Endpoint})
		},
	}
	if opts.PlanFile != "" {
		p, err := plan.Load(opts.PlanFile)
		if err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: err}
		}
		in.Plan = p
	}
	vars, err := inject.Resolve(ctx, in)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("resolving secrets: %w", err)}
	}
	code, err := inject.Exec(ctx, inject.Command{
		Name: opts.Command[0], Args: opts.Command[1:],
		Env:   inject.Environ(opts.Base, vars, opts.Override),
		Stdin: opts.IO.In, Stdout: opts.IO.Out, Stderr: opts.IO.ErrOut,
	})
	if err != nil {
		return &cli.ExitError{Code: code, Err: err}
	}
	if code != 0 {
		return cli.Exit(code)
	}
	return nil
}
