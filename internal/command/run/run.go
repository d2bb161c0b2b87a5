// Package run implements the `env2vault run` command.
package run

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
)

// NewCmd returns the `run` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "PLACEHOLDER: being built",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("run is not built yet")
		},
	}
}
