%% SPDX-License-Identifier: Apache-2.0
-module(example_server_app).
-behaviour(application).
-export([start/2, stop/1]).

start(_Type, _Args) -> example_server_sup:start_link().
stop(_State) -> ok.
