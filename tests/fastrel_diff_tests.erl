%% SPDX-License-Identifier: Apache-2.0
%% @doc EUnit entry points for the relnif-vs-systools differential suite (fastrel_diff).
%%
%% Environment: FASTREL_DIFF_CASES (default 300), FASTREL_DIFF_SEED (default 20250101),
%% FASTREL_DIFF_SUBJECT (`relnif', or `systools' to check the generator against itself).
-module(fastrel_diff_tests).

-include_lib("eunit/include/eunit.hrl").

-define(DEFAULT_CASES, 300).
-define(DEFAULT_SEED, 20250101).
-define(SHOWN_MISMATCHES, 5).

diff_test_() ->
    {timeout, 1200,
     fun() ->
             N = env_int("FASTREL_DIFF_CASES", ?DEFAULT_CASES),
             Seed = env_int("FASTREL_DIFF_SEED", ?DEFAULT_SEED),
             Subject = list_to_atom(os:getenv("FASTREL_DIFF_SUBJECT", "relnif")),
             T0 = erlang:monotonic_time(millisecond),
             {Cases, Mismatches} = fastrel_diff:run(N, Seed, #{subject => Subject}),
             Ms = erlang:monotonic_time(millisecond) - T0,
             io:format(user, "~n~ts~n", [fastrel_diff:summary_line(Cases, Mismatches)]),
             io:format(user, "seed ~w, subject ~w, ~w ms~n~ts",
                       [Seed, Subject, Ms, fastrel_diff:detail_lines(Cases, Mismatches)]),
             [io:format(user, "~n~ts", [fastrel_diff:format_mismatch(M)])
              || M <- lists:sublist(Mismatches, ?SHOWN_MISMATCHES)],
             ?assertEqual(0, length(Mismatches))
     end}.

%% systools loops forever on a cycle in included_applications; relnif must say so
%% instead. systools is deliberately not run here.
included_cycle_test_() ->
    [{atom_to_list(Kind), {timeout, 30, fun() -> cycle(Kind) end}} || Kind <- [pair, self]].

cycle(Kind) ->
    {Dir, Rel, Opts} = fastrel_diff:cycle_fixture(Kind),
    {Us, Result} = timer:tc(fun() -> fastrel_diff:call_in_dir(relnif, Dir, Rel, Opts, 5000) end),
    ?assertMatch({error, relnif, {circular_included_applications, _}}, Result),
    ?assert(Us < 5000000).

env_int(Name, Default) ->
    case os:getenv(Name) of
        false -> Default;
        "" -> Default;
        S -> list_to_integer(string:trim(S))
    end.
