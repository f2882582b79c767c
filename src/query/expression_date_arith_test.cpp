// $dateAdd, $dateSubtract, $dateDiff, $dateTrunc, $dateFromParts, $dateToParts, and Olson
// time zones in the date operators (these read Debian's tzdata).
#include <gtest/gtest.h>

#include "query/expression_testutil.h"

namespace brook::query {
namespace {

using exprtest::Case;
using exprtest::Check;

class DateArithTable : public ::testing::TestWithParam<Case> {};
TEST_P(DateArithTable, Evaluates) { Check(GetParam()); }

// Thursday 2021-03-04.
const char* const kD = R"({"d": {"$date": "2021-03-04T05:06:07.089Z"}})";

const Case kAddCases[] = {
    {R"({"$dateAdd": {"startDate": {"$date": "2021-01-31T10:00:00Z"}, "unit": "month", "amount": 1}})", "{}",
     R"({"$date": "2021-02-28T10:00:00Z"})"},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "hour", "amount": 25}})", kD,
     R"({"$date": "2021-03-05T06:06:07.089Z"})"},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "quarter", "amount": -1}})", kD,
     R"({"$date": "2020-12-04T05:06:07.089Z"})"},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "year", "amount": 2.0}})", kD,
     R"({"$date": "2023-03-04T05:06:07.089Z"})"},
    {R"({"$dateSubtract": {"startDate": {"$date": "2021-03-01T00:00:00Z"}, "unit": "day", "amount": 1}})", "{}",
     R"({"$date": "2021-02-28T00:00:00Z"})"},
    // A local day across New York's 2021 spring-forward is 23 hours long.
    {R"({"$dateAdd": {"startDate": {"$date": "2021-03-13T12:00:00Z"}, "unit": "day", "amount": 1,
                      "timezone": "America/New_York"}})",
     "{}", R"({"$date": "2021-03-14T11:00:00Z"})"},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "day", "amount": null}})", kD, "null"},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 1.5}})", kD, nullptr, 5166405},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "decade", "amount": 1}})", kD, nullptr, 5439014},
    {R"({"$dateAdd": {"startDate": "$d", "unit": 3, "amount": 1}})", kD, nullptr, 5439013},
    {R"({"$dateAdd": {"startDate": "x", "unit": "day", "amount": 1}})", "{}", nullptr, 5166403},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "day"}})", kD, nullptr, 5166402},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 1, "x": 1}})", kD, nullptr, 5166401},
    {R"({"$dateAdd": 5})", "{}", nullptr, 5166400},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "millisecond", "amount": {"$numberLong": "9223372036854775807"}}})",
     kD, nullptr, 5166406},
    {R"({"$dateAdd": {"startDate": "$d", "unit": "year", "amount": 100000}})", kD, nullptr, 5166406},
};
INSTANTIATE_TEST_SUITE_P(Add, DateArithTable, ::testing::ValuesIn(kAddCases));

const Case kDiffCases[] = {
    {R"({"$dateDiff": {"startDate": {"$date": "2021-01-31T23:00:00Z"}, "endDate": {"$date": "2021-02-01T01:00:00Z"},
                       "unit": "day"}})",
     "{}", R"({"$numberLong": "1"})"},
    {R"({"$dateDiff": {"startDate": {"$date": "2021-01-31T23:00:00Z"}, "endDate": {"$date": "2021-02-01T01:00:00Z"},
                       "unit": "month"}})",
     "{}", R"({"$numberLong": "1"})"},
    {R"({"$dateDiff": {"startDate": {"$date": "2021-01-31T23:00:00Z"}, "endDate": {"$date": "2021-02-01T01:00:00Z"},
                       "unit": "year"}})",
     "{}", R"({"$numberLong": "0"})"},
    {R"({"$dateDiff": {"startDate": {"$date": "2021-01-31T23:00:00Z"}, "endDate": {"$date": "2021-02-01T01:00:00Z"},
                       "unit": "millisecond"}})",
     "{}", R"({"$numberLong": "7200000"})"},
    {R"({"$dateDiff": {"startDate": {"$date": "2021-12-31T00:00:00Z"}, "endDate": {"$date": "2020-01-01T00:00:00Z"},
                       "unit": "quarter"}})",
     "{}", R"({"$numberLong": "-7"})"},
    // Saturday to Sunday crosses a Sunday-start week boundary but not a Monday-start one.
    {R"({"$dateDiff": {"startDate": {"$date": "2021-03-06T12:00:00Z"}, "endDate": {"$date": "2021-03-07T12:00:00Z"},
                       "unit": "week"}})",
     "{}", R"({"$numberLong": "1"})"},
    {R"({"$dateDiff": {"startDate": {"$date": "2021-03-06T12:00:00Z"}, "endDate": {"$date": "2021-03-07T12:00:00Z"},
                       "unit": "week", "startOfWeek": "MON"}})",
     "{}", R"({"$numberLong": "0"})"},
    // In Tokyo (+09:00) 2021-03-06T20:00Z is already Sunday.
    {R"({"$dateDiff": {"startDate": {"$date": "2021-03-06T20:00:00Z"}, "endDate": {"$date": "2021-03-06T21:00:00Z"},
                       "unit": "day", "timezone": "Asia/Tokyo"}})",
     "{}", R"({"$numberLong": "0"})"},
    {R"({"$dateDiff": {"startDate": {"$date": "2021-03-06T14:00:00Z"}, "endDate": {"$date": "2021-03-06T15:00:00Z"},
                       "unit": "day", "timezone": "Asia/Tokyo"}})",
     "{}", R"({"$numberLong": "1"})"},
    {R"({"$dateDiff": {"startDate": "x", "endDate": "$d", "unit": "day"}})", kD, nullptr, 5166307},
    {R"({"$dateDiff": {"startDate": "$d", "endDate": "$d", "unit": "day", "startOfWeek": "someday"}})", kD,
     R"({"$numberLong": "0"})"},
    {R"({"$dateDiff": {"startDate": "$d", "endDate": "$d", "unit": "week", "startOfWeek": "someday"}})", kD, nullptr,
     5439016},
    {R"({"$dateDiff": {"startDate": "$d", "endDate": "$d", "unit": "day", "timezone": "Nowhere/City"}})", kD, nullptr,
     40485},
    {R"({"$dateDiff": {"startDate": "$d", "endDate": "$nope", "unit": "day"}})", kD, "null"},
    {R"({"$dateDiff": {"startDate": "$d", "unit": "day"}})", kD, nullptr, 5166304},
    {R"({"$dateDiff": {"startDate": "$d", "endDate": "$d"}})", kD, nullptr, 5166305},
    {R"({"$dateDiff": {"endDate": "$d", "unit": "day"}})", kD, nullptr, 5166303},
};
INSTANTIATE_TEST_SUITE_P(Diff, DateArithTable, ::testing::ValuesIn(kDiffCases));

const Case kTruncCases[] = {
    {R"({"$dateTrunc": {"date": "$d", "unit": "hour"}})", kD, R"({"$date": "2021-03-04T05:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "hour", "binSize": 2}})", kD, R"({"$date": "2021-03-04T04:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "minute", "binSize": 15}})", kD,
     R"({"$date": "2021-03-04T05:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "month"}})", kD, R"({"$date": "2021-03-01T00:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "quarter"}})", kD, R"({"$date": "2021-01-01T00:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "year", "binSize": 5}})", kD, R"({"$date": "2020-01-01T00:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "week"}})", kD, R"({"$date": "2021-02-28T00:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "week", "startOfWeek": "monday"}})", kD,
     R"({"$date": "2021-03-01T00:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "day", "timezone": "+05:30"}})", kD,
     R"({"$date": "2021-03-03T18:30:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "day", "timezone": "Europe/Paris"}})", kD,
     R"({"$date": "2021-03-03T23:00:00Z"})"},
    {R"({"$dateTrunc": {"date": "$d", "unit": "day", "binSize": 0}})", kD, nullptr, 5439018},
    {R"({"$dateTrunc": {"date": "$d", "unit": "day", "binSize": 1.5}})", kD, nullptr, 5439017},
    {R"({"$dateTrunc": {"date": 7, "unit": "day"}})", "{}", nullptr, 5439012},
    {R"({"$dateTrunc": {"date": "$d"}})", kD, nullptr, 5439010},
    {R"({"$dateTrunc": {"unit": "day"}})", kD, nullptr, 5439009},
    {R"({"$dateTrunc": {"date": "$d", "unit": "day", "when": 1}})", kD, nullptr, 5439008},
    {R"({"$dateTrunc": {"date": null, "unit": "day"}})", "{}", "null"},
};
INSTANTIATE_TEST_SUITE_P(Trunc, DateArithTable, ::testing::ValuesIn(kTruncCases));

const Case kPartsCases[] = {
    {R"({"$dateFromParts": {"year": 2021, "month": 14, "day": 1}})", "{}", R"({"$date": "2022-02-01T00:00:00Z"})"},
    {R"({"$dateFromParts": {"year": 2021, "month": 3, "day": 0, "hour": 25}})", "{}",
     R"({"$date": "2021-03-01T01:00:00Z"})"},
    {R"({"$dateFromParts": {"isoWeekYear": 2021, "isoWeek": 1, "isoDayOfWeek": 1}})", "{}",
     R"({"$date": "2021-01-04T00:00:00Z"})"},
    {R"({"$dateFromParts": {"year": 2021, "timezone": "Europe/Paris"}})", "{}",
     R"({"$date": "2020-12-31T23:00:00Z"})"},
    {R"({"$dateFromParts": {"year": 2021, "month": 7, "timezone": "Europe/Paris"}})", "{}",
     R"({"$date": "2021-06-30T22:00:00Z"})"},
    {R"({"$dateFromParts": {"year": null}})", "{}", "null"},
    {R"({"$dateFromParts": {"year": 0}})", "{}", nullptr, 31095},
    {R"({"$dateFromParts": {"year": 2021, "month": 40000}})", "{}", nullptr, 31034},
    {R"({"$dateFromParts": {"year": 2021, "month": 1.5}})", "{}", nullptr, 40515},
    {R"({"$dateFromParts": {"month": 1}})", "{}", nullptr, 40516},
    {R"({"$dateFromParts": {"year": 2021, "isoWeek": 1}})", "{}", nullptr, 40489},
    {R"({"$dateFromParts": {"isoWeekYear": 2021, "month": 1}})", "{}", nullptr, 40525},
    {R"({"$dateFromParts": {"year": 2021, "eon": 1}})", "{}", nullptr, 40518},
    {R"({"$dateToParts": {"date": "$d"}})", kD,
     R"({"year": 2021, "month": 3, "day": 4, "hour": 5, "minute": 6, "second": 7, "millisecond": 89})"},
    {R"({"$dateToParts": {"date": "$d", "iso8601": true}})", kD,
     R"({"isoWeekYear": 2021, "isoWeek": 9, "isoDayOfWeek": 4, "hour": 5, "minute": 6, "second": 7,
         "millisecond": 89})"},
    // 2021-01-01 is a Friday of ISO week 53 of 2020.
    {R"({"$dateToParts": {"date": {"$date": "2021-01-01T00:00:00Z"}, "iso8601": true}})", "{}",
     R"({"isoWeekYear": 2020, "isoWeek": 53, "isoDayOfWeek": 5, "hour": 0, "minute": 0, "second": 0,
         "millisecond": 0})"},
    {R"({"$dateToParts": {"date": {"$date": "2021-07-01T00:00:00Z"}, "timezone": "Europe/Paris"}})", "{}",
     R"({"year": 2021, "month": 7, "day": 1, "hour": 2, "minute": 0, "second": 0, "millisecond": 0})"},
    {R"({"$dateToParts": {"date": "$d", "iso8601": "yes"}})", kD, nullptr, 40521},
    {R"({"$dateToParts": {"date": "$nope"}})", kD, "null"},
    {R"({"$dateToParts": {"timezone": "UTC"}})", kD, nullptr, 40522},
};
INSTANTIATE_TEST_SUITE_P(Parts, DateArithTable, ::testing::ValuesIn(kPartsCases));

// Olson names in the older date operators.
const Case kZoneCases[] = {
    {R"({"$hour": {"date": {"$date": "2021-07-01T00:00:00Z"}, "timezone": "America/New_York"}})", "{}", "20"},
    {R"({"$hour": {"date": {"$date": "2021-01-01T00:00:00Z"}, "timezone": "America/New_York"}})", "{}", "19"},
    // Past the last transition of the file: the POSIX footer rule decides.
    {R"({"$hour": {"date": {"$date": "2100-07-01T00:00:00Z"}, "timezone": "America/New_York"}})", "{}", "20"},
    {R"({"$hour": {"date": {"$date": "2100-01-01T00:00:00Z"}, "timezone": "Australia/Sydney"}})", "{}", "11"},
    {R"({"$dateToString": {"date": "$d", "format": "%H:%M %z", "timezone": "Asia/Kolkata"}})", kD,
     R"("10:36 +0530")"},
    {R"({"$dateFromString": {"dateString": "2021-07-01T12:00:00", "timezone": "America/New_York"}})", "{}",
     R"({"$date": "2021-07-01T16:00:00Z"})"},
    {R"({"$hour": {"date": "$d", "timezone": "Mars/Olympus_Mons"}})", kD, nullptr, 40485},
    {R"({"$hour": {"date": "$d", "timezone": "../../etc/passwd"}})", kD, nullptr, 40485},
    {R"({"$hour": {"date": "$d", "timezone": "America"}})", kD, nullptr, 40485},
};
INSTANTIATE_TEST_SUITE_P(Zones, DateArithTable, ::testing::ValuesIn(kZoneCases));

}  // namespace
}  // namespace brook::query
