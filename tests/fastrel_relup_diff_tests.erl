%% SPDX-License-Identifier: Apache-2.0
%% @doc EUnit entry point for the make_relup differential suite (fastrel_relup_diff).
%%
%% Environment: FASTREL_RELUP_DIFF_CASES (default 100), FASTREL_RELUP_DIFF_SEED
%% (default 20260101).
-module(fastrel_relup_diff_tests).

-include_lib("eunit/include/eunit.hrl").

-define(DEFAULT_CASES, 100).
-define(DEFAULT_SEED, 20260101).
-define(SHOWN_MISMATCHES, 3).

diff_test_() ->
    {timeout, 1200,
     fun() ->
             N = env_int("FASTREL_RELUP_DIFF_CASES", ?DEFAULT_CASES),
             Seed = env_int("FASTREL_RELUP_DIFF_SEED", ?DEFAULT_SEED),
             T0 = erlang:monotonic_time(millisecond),
             {Cases, Mismatches} = fastrel_relup_diff:run(N, Seed),
             Ms = erlang:monotonic_time(millisecond) - T0,
             io:format(user, "~n~ts (seed ~w, ~w ms)~n",
                       [fastrel_relup_diff:summary_line(Cases, Mismatches), Seed, Ms]),
             [io:format(user, "~n~ts", [fastrel_relup_diff:format_mismatch(M)])
              || M <- lists:sublist(Mismatches, ?SHOWN_MISMATCHES)],
             ?assertEqual(0, length(Mismatches))
     end}.

env_int(Name, Default) ->
    case os:getenv(Name) of
        false -> Default;
        "" -> Default;
        S -> list_to_integer(string:trim(S))
    end.
