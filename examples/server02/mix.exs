# SPDX-License-Identifier: Apache-2.0
# The Elixir side of the release-handling chapter's example: a supervised counter that
# survives restarts by keeping its count in a file. `mix release` builds it; `fastrel mix
# heart` makes the release run on fastrel's heart, run_erl and to_erl.
defmodule Server02.MixProject do
  use Mix.Project

  def project do
    [
      app: :server02,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      releases: [
        server02: [
          include_executables_for: [:unix],
          # INCLUDE_ERTS=false builds a release that runs on the system's ERTS.
          include_erts: System.get_env("INCLUDE_ERTS", "true") == "true",
          steps: [:assemble, :tar]
        ]
      ]
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {Server02.Application, []}]
  end
end
