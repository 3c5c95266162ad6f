%% SPDX-License-Identifier: Apache-2.0
-module(example_server_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    Child = #{id => example_server, start => {example_server, start_link, []}},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Child]}}.
