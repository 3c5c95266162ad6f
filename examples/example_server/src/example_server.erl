%% SPDX-License-Identifier: Apache-2.0
%% @doc A counter: `example_server:increment()' returns the new value.
-module(example_server).
-behaviour(gen_server).
-export([start_link/0, increment/0, value/0]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
increment() -> gen_server:call(?MODULE, increment).
value() -> gen_server:call(?MODULE, value).

init([]) -> {ok, application:get_env(example_server, start_value, 0)}.
handle_call(increment, _From, N) -> {reply, N + 1, N + 1};
handle_call(value, _From, N) -> {reply, N, N}.
handle_cast(_Msg, N) -> {noreply, N}.
