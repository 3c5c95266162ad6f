%% SPDX-License-Identifier: Apache-2.0
%% @doc EUnit entry of the relnif property test (`relnif_prop'). Cases from
%% `FASTREL_PROP_CASES' (default 200), master seed from `FASTREL_PROP_SEED' (default a
%% fixed one, so that CI's verdict is about the change; `random' takes the clock; printed). Fails on any VM crash, hang, undocumented exception, result outside
%% the documented shapes, `format_error/1' raising where systools' does not, or half-written
%% output. Known divergences (see `relnif_prop') are reported and counted, not failed.
%%   FASTREL_PROP_CASES=10000 rebar3 as test eunit --module=relnif_prop_tests
-module(relnif_prop_tests).

-include_lib("eunit/include/eunit.hrl").

prop_test_() ->
    N = env_int("FASTREL_PROP_CASES", 200),
    Seed = case os:getenv("FASTREL_PROP_SEED") of
               "random" -> erlang:system_time(microsecond) rem 1000000007;
               _ -> env_int("FASTREL_PROP_SEED", 20261206)
           end,
    {timeout, 60 + N * 2,
     fun() ->
             R = relnif_prop:run(N, Seed),
             Text = relnif_prop:format_report(R),
             io:format(user, "~n~ts", [Text]),
             _ = file:write_file(filename:join(["_build", "prop", "report.txt"]), Text),
             ?assertEqual(N, maps:get(cases, R)),
             ?assertEqual({0, 0, 0, 0, 0, 0},
                          list_to_tuple([length(maps:get(K, R)) || K <- [crashes, hangs, undocumented, bad_results,
                                                                         format_raised, half_written]]))
     end}.

env_int(Var, Default) ->
    case os:getenv(Var) of
        false -> Default;
        "" -> Default;
        S -> list_to_integer(S)
    end.
