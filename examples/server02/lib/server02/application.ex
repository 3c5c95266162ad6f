# SPDX-License-Identifier: Apache-2.0
defmodule Server02.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    Supervisor.start_link([Server02.Counter], strategy: :one_for_one, name: Server02.Supervisor)
  end
end
