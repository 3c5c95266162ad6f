# SPDX-License-Identifier: Apache-2.0
defmodule Server02.Counter do
  @moduledoc """
  Counts once a second and writes the count to `$COUNTER_FILE` (default
  `counter` in the current directory), starting from what the file holds: a node
  restarted by heart carries on where the killed one stopped.
  """
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  def value, do: GenServer.call(__MODULE__, :value)

  @impl true
  def init(nil) do
    file = System.get_env("COUNTER_FILE", "counter")

    count =
      case File.read(file) do
        {:ok, text} -> String.to_integer(String.trim(text))
        _ -> 0
      end

    IO.puts("counter resumes at #{count}")
    :timer.send_interval(1000, :tick)
    {:ok, {file, count}}
  end

  @impl true
  def handle_info(:tick, {file, count}) do
    File.write!(file, Integer.to_string(count + 1))
    IO.puts("count #{count + 1}")
    {:noreply, {file, count + 1}}
  end

  @impl true
  def handle_call(:value, _from, {_, count} = state), do: {:reply, count, state}
end
